"""What the image-classification readers share (CIFAR, CUB, Stanford Cars, FGVC-Aircraft, ImageNet, Herbarium,
image folders): the base class and the line parsing of their text annotation files.

Each reader reads one dataset's official on-disk format; nothing is downloaded. Items carry ``gt_label`` (an index
into metainfo ``classes``, which the reader fills from the dataset's own files) and either ``img`` (an in-memory
uint8 array) or ``img_path`` (loaded by the pipeline's ``LoadImageFromFile``).
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset


def read_text_lines(path: str) -> List[Tuple[int, str]]:
    """The non-blank lines of a text file as ``(line number from 1, stripped line)``.

    Lines are split on ``'\\n'`` only (not also on form feeds etc., as ``str.splitlines`` would), so the
    numbers match the file's lines.

    Args:
        path (str): a UTF-8 text file.

    Returns:
        list[tuple[int, str]]: ``(line number, stripped line)`` of each non-blank line, in file order.

    Raises:
        FileNotFoundError: naming ``path``.
        ValueError: naming ``path`` when it is not UTF-8 text.
    """
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f'{path} not found') from None
    except UnicodeDecodeError as err:
        raise ValueError(f'{path}: not a UTF-8 text file ({err})') from None
    # split on '\n' only: str.splitlines would also split on form feeds etc. and shift the line numbers
    return [(i, line.strip()) for i, line in enumerate(text.split('\n'), 1) if line.strip()]


def parse_fields(line: str, path: str, lineno: int, fields: Sequence[str]) -> List[str]:
    """Split ``line`` into ``len(fields)`` whitespace-separated fields; the last one keeps inner spaces.

    Args:
        line (str): the (stripped) line.
        path (str): the file holding the line, for the error message.
        lineno (int): the line number in ``path``, for the error message.
        fields (Sequence[str]): the names of the expected fields, in order.

    Returns:
        list[str]: the ``len(fields)`` fields.

    Raises:
        ValueError: naming the file, the line number and the expected fields.
    """
    parts = line.split(maxsplit=len(fields) - 1)
    if len(parts) != len(fields):
        raise ValueError(f'{path}:{lineno}: expected {len(fields)} fields ({" ".join(fields)}), '
                         f'got {len(parts)}: {line!r}')
    return parts


def parse_int(text: str, path: str, lineno: int, field: str) -> int:
    """``int(text)``, or a ValueError naming the file, the line number and the field.

    Args:
        text (str): the field's text.
        path (str): the file holding it, for the error message.
        lineno (int): the line number in ``path``, for the error message.
        field (str): the field's name, for the error message.

    Returns:
        int: ``int(text)``.

    Raises:
        ValueError: ``text`` is not an integer.
    """
    try:
        return int(text)
    except ValueError:
        raise ValueError(f'{path}:{lineno}: {field} must be an integer, got {text!r}') from None


class ClassificationDataset(BaseDataset):
    """Base of the classification readers: one ``gt_label`` per image, class names from the dataset's files.

    A subclass reads its files in ``load_data_list`` and calls :meth:`set_classes`
    with the class names it found. metainfo ``classes`` is therefore filled when
    the dataset is fully initialised (at construction unless ``lazy_init=True``).

    Args:
        data_root (str): the dataset's folder (as downloaded and extracted); required (not empty).
        split (str, optional): one of the class's ``SPLITS`` (readers with splits; checked when
            ``SPLITS`` is not empty). Defaults to None.
        check_images (bool): refuse, when loading, an image file that the
            annotations list but that does not exist (one ``os.path.isfile``
            per image; readers of image files only). Defaults to True.
        **kwargs: the other arguments of mmengine's ``BaseDataset``
            (``pipeline``, ``indices``, ``serialize_data``, ``lazy_init``...).
            A ``metainfo`` ``classes`` that differs from the classes read from
            the files is refused.
    """

    #: the accepted values of ``split`` (empty: the reader has no split argument)
    SPLITS: Tuple[str, ...] = ()

    def __init__(self, data_root: str, split: Optional[str] = None, check_images: bool = True, **kwargs) -> None:
        name = type(self).__name__
        if self.SPLITS and split not in self.SPLITS:
            raise ValueError(f'{name}: split must be one of {self.SPLITS}, got {split!r}')
        if not data_root:
            raise ValueError(f'{name}: data_root (the dataset folder) is required')
        self.split = split
        self.check_images = check_images
        super().__init__(data_root=data_root, **kwargs)

    def set_classes(self, classes: Sequence[str], source: str) -> None:
        """Set metainfo ``classes`` to the names read from ``source`` (a file or folder, for the messages)."""
        classes = tuple(str(c) for c in classes)
        given = self._metainfo.get('classes')
        if given is not None and tuple(given) != classes:
            raise ValueError(f'{type(self).__name__}: metainfo classes ({len(given)} names) differ from the '
                             f'{len(classes)} classes read from {source}; leave metainfo classes unset')
        self._metainfo['classes'] = classes

    def check_image(self, path: str, where: str) -> None:
        """With ``check_images``, a FileNotFoundError naming ``path`` and the annotation (``where``) listing it."""
        if self.check_images and not osp.isfile(path):
            raise FileNotFoundError(f'{where}: image not found: {path}')

    def get_gt_labels(self) -> np.ndarray:
        """The ``gt_label`` of every sample, int64 array of length ``len(self)``."""
        return np.array([self.get_data_info(i)['gt_label'] for i in range(len(self))], dtype=np.int64)

    def get_cat_ids(self, idx: int) -> List[int]:
        """``[gt_label]`` of sample ``idx`` (for mmengine's ``ClassBalancedDataset``)."""
        return [int(self.get_data_info(idx)['gt_label'])]
