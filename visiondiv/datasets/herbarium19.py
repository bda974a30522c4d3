"""Herbarium 2019 (FGVC6, Kaggle) from its COCO-like ``metadata.json`` files."""
import json
import os.path as osp
from typing import Any, List, Optional

from visiondiv.registry import DATASETS
from .classification import ClassificationDataset


def json_field(entry: Any, key: str, path: str, where: str, kind: type = int) -> Any:
    """``entry[key]``, checked to be a ``kind`` (ints: not bools), or a ValueError naming the file, entry and key.

    Args:
        entry (Any): a JSON object (dict) of the metadata file; anything else is refused as missing ``key``.
        key (str): the field to read.
        path (str): the metadata file, for the error messages.
        where (str): the entry's place in the file (``'images[3]'``), for the error messages.
        kind (type): the type the value must have (bools are refused whatever ``kind``). Defaults to int.

    Returns:
        Any: ``entry[key]``.

    Raises:
        ValueError: ``entry`` is not a dict or lacks ``key``, or the value is not a ``kind``.
    """
    if not isinstance(entry, dict) or key not in entry:
        raise ValueError(f'{path}: {where}: missing key {key!r}')
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f'{path}: {where}: {key!r} must be {kind.__name__}, got {value!r}')
    return value


@DATASETS.register_module()
class Herbarium19Dataset(ClassificationDataset):
    """Herbarium 2019 (683 melastome species), Kaggle layout: ``data_root/{train,validation}/metadata.json``
    (``images``: ``id``, ``file_name``; ``annotations``: ``image_id``, ``category_id``;
    ``categories``: ``id``, ``name``) and the images ``<split>/<category>/<id>.jpg``.

    SimGCD reads the same images with torchvision's ``ImageFolder`` on the
    ``small-train`` / ``small-validation`` folders (``<category>/<id>.jpg``), so
    its class indices, which its ``herbarium_19_class_splits.pkl`` refers to,
    are the category folder names sorted as strings ('0', '1', '10', '100',
    ...). This reader gives the same: classes are ordered by ``str(category id)``
    and samples by (class, file name), ImageFolder's order. metainfo
    ``classes`` are the category names (the id as a string where a category has
    no ``name``) and ``category_ids`` the ids in label order. Items: ``img_path``,
    ``gt_label``. SimGCD evaluates on ``validation``; the unlabelled test split
    is not read. (Without a ``metadata.json``, :class:`ImageFolderDataset` on
    the category folders gives the same labels and samples, with the folder
    names as class names.)

    ``file_name`` is taken relative to ``data_root/<img_subdir>``; a leading
    ``<split>/`` component in it is dropped.

    Args:
        data_root (str): the folder holding ``train`` and ``validation`` (SimGCD's ``herbarium_dataroot``).
        split (str): ``'train'`` or ``'validation'``. Defaults to ``'train'``.
        ann_file (str): the metadata file, relative to ``data_root``; empty: ``<split>/metadata.json``.
            Defaults to ``''``.
        img_subdir (str, optional): the image folder under ``data_root``; None: ``split``
            (``'small-train'`` reads the resized copy, whose file names match). Defaults to None.
        **kwargs: :class:`~visiondiv.datasets.classification.ClassificationDataset` arguments.
    """

    SPLITS = ('train', 'validation')

    def __init__(self, data_root: str, split: str = 'train', ann_file: str = '', img_subdir: Optional[str] = None,
                 **kwargs) -> None:
        self.img_subdir = img_subdir or split
        super().__init__(data_root=data_root, split=split, ann_file=ann_file or f'{split}/metadata.json', **kwargs)

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        try:
            with open(path, encoding='utf-8') as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f'Herbarium 2019 metadata not found: {path}') from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f'{path}: not valid JSON ({err})') from None
        if not isinstance(meta, dict):
            raise ValueError(f'{path}: expected a JSON object, got {type(meta).__name__}')
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(meta.get(key), list):
                raise ValueError(f'{path}: missing key {key!r} (a list)' if key not in meta
                                 else f'{path}: {key!r} must be a list')

        names = {}
        for k, cat in enumerate(meta['categories']):
            cid = json_field(cat, 'id', path, f'categories[{k}]')
            if cid in names:
                raise ValueError(f'{path}: categories[{k}]: category id {cid} is listed twice')
            names[cid] = str(cat.get('name', cid))
        order = sorted(names, key=str)  # ImageFolder's order of the category folders
        label_of = {cid: i for i, cid in enumerate(order)}
        self.set_classes([names[cid] for cid in order], path)
        self._metainfo['category_ids'] = tuple(order)

        files = {}
        for k, img in enumerate(meta['images']):
            image_id = json_field(img, 'id', path, f'images[{k}]')
            if image_id in files:
                raise ValueError(f'{path}: images[{k}]: image id {image_id} is listed twice')
            files[image_id] = (json_field(img, 'file_name', path, f'images[{k}]', str), k)
        labels = {}
        for k, ann in enumerate(meta['annotations']):
            image_id = json_field(ann, 'image_id', path, f'annotations[{k}]')
            cid = json_field(ann, 'category_id', path, f'annotations[{k}]')
            if image_id not in files:
                raise ValueError(f'{path}: annotations[{k}]: image_id {image_id} is not in images')
            if cid not in label_of:
                raise ValueError(f'{path}: annotations[{k}]: unknown category_id {cid} (not in categories)')
            if image_id in labels:
                raise ValueError(f'{path}: annotations[{k}]: image_id {image_id} has a second annotation')
            labels[image_id] = label_of[cid]

        samples = []
        for image_id, (file_name, k) in files.items():
            if image_id not in labels:
                raise ValueError(f'{path}: images[{k}]: no annotation for image id {image_id}')
            parts = file_name.replace('\\', '/').split('/')
            rel = '/'.join(parts[1:]) if len(parts) > 1 and parts[0] == self.split else '/'.join(parts)
            samples.append((labels[image_id], rel, k))
        img_root = osp.join(self.data_root, self.img_subdir)
        data_list = []
        for label, rel, k in sorted(samples):
            img_path = osp.join(img_root, *rel.split('/'))
            self.check_image(img_path, f'{path}: images[{k}]')
            data_list.append(dict(img_path=img_path, gt_label=label))
        return data_list
