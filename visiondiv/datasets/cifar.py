"""CIFAR-10 and CIFAR-100 from their official python pickle batches."""
import os.path as osp
import pickle
from typing import List, Sequence

import numpy as np

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset


def load_cifar_pickle(path: str, keys: Sequence[str]) -> dict:
    """One pickle of the CIFAR python version (a dict), checked to hold ``keys``.

    Loaded with ``encoding='latin1'`` as torchvision does: the official files are
    Python 2 pickles. The md5 of the archive is not checked.

    Args:
        path (str): the pickle file (``data_batch_1``, ``test_batch``, ``batches.meta``...).
        keys (Sequence[str]): the keys the unpickled dict must hold.

    Returns:
        dict: the unpickled dict.

    Raises:
        FileNotFoundError: naming ``path``.
        ValueError: naming ``path`` (not a pickle, or not a pickled dict) or ``path`` and the missing key.
    """
    try:
        with open(path, 'rb') as f:
            entry = pickle.load(f, encoding='latin1')
    except FileNotFoundError:
        raise FileNotFoundError(f'CIFAR file not found: {path}') from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, ValueError) as err:
        raise ValueError(f'{path}: not a CIFAR python pickle ({type(err).__name__}: {err})') from None
    if not isinstance(entry, dict):
        raise ValueError(f'{path}: expected a pickled dict, got {type(entry).__name__}')
    for key in keys:
        if key not in entry:
            raise ValueError(f'{path}: missing key {key!r} (keys: {sorted(map(str, entry))})')
    return entry


@DATASETS.register_module()
class CIFAR10Dataset(ClassificationDataset):
    """CIFAR-10, python version: ``data_root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``.

    Items: ``img`` (uint8 (32, 32, 3) RGB), ``gt_label``. The train split is
    the five batches in order (sample ``i`` is torchvision's ``CIFAR10[i]``, so
    SimGCD's sample indices), the test split is ``test_batch``; classes are
    ``label_names`` of ``batches.meta``.

    Args:
        data_root (str): the folder holding ``cifar-10-batches-py`` (SimGCD's ``cifar_10_root``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'test')
    base_folder = 'cifar-10-batches-py'
    train_files = ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5')
    test_files = ('test_batch',)
    meta_file = 'batches.meta'
    meta_key = 'label_names'
    label_key = 'labels'

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = osp.join(self.data_root, self.base_folder)
        meta_path = osp.join(folder, self.meta_file)
        classes = load_cifar_pickle(meta_path, [self.meta_key])[self.meta_key]
        if not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes):
            raise ValueError(f'{meta_path}: key {self.meta_key!r} must be a list of class names')
        self.set_classes(classes, meta_path)
        data_list = []
        for name in self.train_files if self.split == 'train' else self.test_files:
            path = osp.join(folder, name)
            entry = load_cifar_pickle(path, ['data', self.label_key])
            data = entry['data']
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                    or data.shape[1] != 3 * 32 * 32:
                desc = f'{data.dtype} array of shape {data.shape}' if isinstance(data, np.ndarray) \
                    else type(data).__name__
                raise ValueError(f"{path}: key 'data' must be a uint8 array of shape (N, 3072), got {desc}")
            labels = entry[self.label_key]
            if len(labels) != len(data):
                raise ValueError(f'{path}: key {self.label_key!r} has {len(labels)} labels for '
                                 f"{len(data)} images of key 'data'")
            # rows are the R, G, B planes of 32x32 (as torchvision reshapes them)
            images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            for i, (img, label) in enumerate(zip(images, labels)):
                if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) \
                        or not 0 <= label < len(classes):
                    raise ValueError(f'{path}: key {self.label_key!r}, sample {i}: unknown class id {label!r} '
                                     f'({len(classes)} classes in {meta_path})')
                data_list.append(dict(img=np.ascontiguousarray(img), gt_label=int(label)))
        return data_list


@DATASETS.register_module()
class CIFAR100Dataset(CIFAR10Dataset):
    """CIFAR-100, python version: ``data_root/cifar-100-python/{train, test, meta}``, the 100 fine labels.

    Items: ``img`` (uint8 (32, 32, 3) RGB), ``gt_label`` (``fine_labels``);
    classes are ``fine_label_names`` of ``meta``.

    Args:
        data_root (str): the folder holding ``cifar-100-python`` (SimGCD's ``cifar_100_root``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    base_folder = 'cifar-100-python'
    train_files = ('train',)
    test_files = ('test',)
    meta_file = 'meta'
    meta_key = 'fine_label_names'
    label_key = 'fine_labels'
