"""ImageNet-100: ImageNet's train/val class folders restricted to 100 classes (SimGCD's choice by default)."""
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np

from visiondiv.registry import DATASETS
from .image_folder import ImageFolderDataset, class_folders, read_class_list


def imagenet100_classes(all_wnids: Sequence[str], seed: int = 0, num_classes: int = 100) -> List[str]:
    """SimGCD's ImageNet-100 classes: ``num_classes`` of the 1000 sorted wnids drawn with numpy seed ``seed``.

    SimGCD (``data/imagenet.py``, ``get_imagenet_100_datasets``) calls
    ``np.random.seed(0)``, then ``np.random.choice(range(1000), size=(100,),
    replace=False)`` and sorts the draw; the numbers index torchvision
    ``ImageFolder``'s classes of the train folder, i.e. the sorted wnids. The
    legacy ``RandomState(seed)`` used here draws the same numbers without
    touching numpy's global state.

    Args:
        all_wnids (Sequence[str]): the 1000 ILSVRC-2012 wnids (any order; they are sorted here).
        seed (int): the numpy seed (SimGCD: 0). Defaults to 0.
        num_classes (int): how many to draw, at most 1000 (SimGCD: 100). Defaults to 100.

    Returns:
        list[str]: the chosen wnids, sorted (their order is the label order SimGCD uses).

    Raises:
        ValueError: ``all_wnids`` are not 1000 distinct names.
    """
    wnids = sorted(all_wnids)
    if len(wnids) != 1000 or len(set(wnids)) != 1000:
        raise ValueError(f"SimGCD's ImageNet-100 draw is defined on the 1000 distinct ILSVRC-2012 classes; "
                         f'got {len(wnids)} names ({len(set(wnids))} distinct)')
    picked = np.sort(np.random.RandomState(seed).choice(1000, size=num_classes, replace=False))
    return [wnids[i] for i in picked]


@DATASETS.register_module()
class ImageNet100Dataset(ImageFolderDataset):
    """ImageNet-100 from an ImageNet folder ``data_root/{train,val}/<wnid>/<image>``.

    The val images must be sorted into wnid folders like train (the layout
    torchvision's ``ImageFolder`` reads, which SimGCD uses). Only the selected
    classes are read; labels follow the sorted wnids, as SimGCD's ``cls_map``
    (so with a class-list file, its order does not matter). metainfo
    ``classes`` are the wnids.

    Which 100 classes: ``classes`` (a text file with one wnid per line, or a
    list), or by default SimGCD's own draw (:func:`imagenet100_classes` on the
    1000 wnid folders of ``data_root/train``, seed ``seed``), which needs all
    1000 class folders there. No list is shipped: the default reproduces
    SimGCD's choice from the folder itself.

    Args:
        data_root (str): the ImageNet folder holding ``train`` and ``val`` (SimGCD's ``imagenet_root``).
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        classes (str | Sequence[str], optional): the wnids to keep, or a file listing them; None:
            SimGCD's draw. Defaults to None.
        seed (int): seed of the default draw (SimGCD: 0). Defaults to 0.
        extensions (Sequence[str]): file name endings kept (case-insensitive), passed through ``**kwargs``
            to :class:`ImageFolderDataset`. Defaults to ``IMG_EXTENSIONS``.
        **kwargs: :class:`ImageFolderDataset` and
            :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'val')

    def __init__(self, data_root: str, split: str = 'train', classes: Optional[Union[str, Sequence[str]]] = None,
                 seed: int = 0, **kwargs) -> None:
        self.seed = seed
        super().__init__(data_root=data_root, split=split, classes=classes, **kwargs)

    def image_root(self) -> str:
        """``data_root/<split>``."""
        return osp.join(self.data_root, self.split)

    def selected_classes(self) -> List[str]:
        """The sorted wnids to read: ``classes``, or SimGCD's draw from the train folder."""
        if self.classes_arg is not None:
            return sorted(read_class_list(self.classes_arg))
        train_root = osp.join(self.data_root, 'train')
        try:
            return imagenet100_classes(class_folders(train_root), self.seed)
        except ValueError as err:
            raise ValueError(f'{train_root}: {err}; or give classes= (a wnid list file)') from None
