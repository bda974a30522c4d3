"""Stanford Cars from the devkit's MATLAB annotation files."""
import os.path as osp
from typing import Any, List

import numpy as np
from scipy import io as sio

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset


def load_mat(path: str, key: str) -> np.ndarray:
    """Variable ``key`` of the MATLAB file ``path``.

    Args:
        path (str): a ``.mat`` file (read with ``scipy.io.loadmat``).
        key (str): the variable to return (``'annotations'``, ``'class_names'``).

    Returns:
        np.ndarray: the variable as ``loadmat`` gives it (a struct or cell array).

    Raises:
        FileNotFoundError: naming ``path``.
        ValueError: naming ``path`` (unreadable) or ``path`` and ``key`` (missing).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Stanford Cars annotation file not found: {path}')
    try:
        mat = sio.loadmat(path)
    except Exception as err:  # scipy raises ValueError, MatReadError, TypeError... on a broken file
        raise ValueError(f'{path}: not a readable MATLAB file ({type(err).__name__}: {err})') from None
    if key not in mat:
        raise ValueError(f'{path}: missing variable {key!r} (variables: {sorted(k for k in mat if k[:2] != "__")})')
    return mat[key]


def mat_scalar(value: Any, path: str, where: str) -> Any:
    """The one element of a MATLAB cell/field (loadmat wraps scalars and strings in arrays).

    Object arrays of one element (cells of cells) are unwrapped until a value array remains.

    Args:
        value (Any): a field or cell as ``loadmat`` gives it.
        path (str): the MATLAB file, for the error message.
        where (str): the field's place in the file (``'annotations[3].class'``), for the error message.

    Returns:
        Any: the element, numpy scalars converted to Python ones (``str``, ``int``, ``float``...).

    Raises:
        ValueError: the value does not hold exactly one element.
    """
    arr = np.asarray(value)
    while arr.dtype == object and arr.size == 1:  # cells of cells
        arr = np.asarray(arr.ravel()[0])
    if arr.size != 1:
        raise ValueError(f'{path}: {where} must hold one value, got shape {arr.shape}')
    item = arr.ravel()[0]
    return item.item() if isinstance(item, np.generic) else item


@DATASETS.register_module()
class StanfordCarsDataset(ClassificationDataset):
    """Stanford Cars (196 classes), the files SimGCD's ``CarsDataset`` reads.

    - train: ``data_root/devkit/cars_train_annos.mat``, images in ``data_root/cars_train/``;
    - test: ``data_root/cars_test_annos_withlabels.mat`` (at the root, as SimGCD), images in ``data_root/cars_test/``;
    - class names: ``class_names`` of ``data_root/devkit/cars_meta.mat``.

    Samples follow the records of the ``annotations`` struct array;
    ``gt_label`` is its 1-based ``class`` field minus 1, ``img_path`` joins the
    image folder and its ``fname`` field. Items: ``img_path``, ``gt_label``.

    Args:
        data_root (str): SimGCD's ``car_root``.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        ann_file (str): another annotation file for the split (relative to
            ``data_root``); empty: the one above. Defaults to ``''``.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'test')
    ANN_FILES = dict(train='devkit/cars_train_annos.mat', test='cars_test_annos_withlabels.mat')
    IMG_DIRS = dict(train='cars_train', test='cars_test')

    def __init__(self, data_root: str, split: str = 'train', ann_file: str = '', **kwargs) -> None:
        super().__init__(data_root=data_root, split=split, ann_file=ann_file or self.ANN_FILES.get(split, ''),
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        meta_path = osp.join(self.data_root, 'devkit', 'cars_meta.mat')
        names = load_mat(meta_path, 'class_names')
        classes = [str(mat_scalar(n, meta_path, f"class_names[{i}]")) for i, n in enumerate(names.ravel())]
        self.set_classes(classes, meta_path)
        annos = load_mat(self.ann_file, 'annotations')
        fields = annos.dtype.names or ()
        for field in ('class', 'fname'):
            if field not in fields:
                raise ValueError(f"{self.ann_file}: 'annotations' has no field {field!r} (fields: {list(fields)}); "
                                 'the test split needs cars_test_annos_withlabels.mat')
        img_dir = osp.join(self.data_root, self.IMG_DIRS[self.split])
        data_list = []
        for k, record in enumerate(annos.ravel()):
            where = f'{self.ann_file}: annotations[{k}]'
            class_id = mat_scalar(record['class'], self.ann_file, f"annotations[{k}].class")
            if isinstance(class_id, float) and class_id.is_integer():
                class_id = int(class_id)  # MATLAB doubles
            if not isinstance(class_id, int) or not 1 <= class_id <= len(classes):
                raise ValueError(f'{where}: unknown class id {class_id!r} ({len(classes)} classes in {meta_path})')
            fname = mat_scalar(record['fname'], self.ann_file, f"annotations[{k}].fname")
            if not isinstance(fname, str) or not fname:
                raise ValueError(f'{where}: fname must be a file name, got {fname!r}')
            img_path = osp.join(img_dir, fname)
            self.check_image(img_path, where)
            data_list.append(dict(img_path=img_path, gt_label=class_id - 1))
        return data_list
