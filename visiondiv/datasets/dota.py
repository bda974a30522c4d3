"""DOTA-format datasets (DOTA v1.0/v1.5/v2.0 and custom imagery)."""
import glob
import logging
import math
import os
import os.path as osp
import warnings
from collections import Counter
from typing import List, Optional, Tuple

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from visiondiv.registry import DATASETS
from visiondiv.utils.validation import box_scale_warning

DOTA_V1_CLASSES = ('plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
                   'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
                   'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter')
DOTA_V15_CLASSES = DOTA_V1_CLASSES + ('container-crane',)
DOTA_V2_CLASSES = DOTA_V15_CLASSES + ('airport', 'helipad')

#: image extensions that ``img_suffix`` hints look for (compared case-insensitively)
_IMAGE_EXTS = ('png', 'jpg', 'jpeg', 'tif', 'tiff', 'bmp', 'webp')


class DOTAFormatError(ValueError):
    """A malformed line in a DOTA annotation file (the message names file and line)."""


def _palette(n: int) -> List[Tuple[int, int, int]]:
    return [((37 * i + 80) % 256, (91 * i + 150) % 256, (157 * i + 30) % 256) for i in range(n)]


def parse_dota_line(line: str, cls_map: Optional[dict], path: str, lineno: int) -> Optional[dict]:
    """One annotation line ``x1 y1 ... x4 y4 class [difficulty]`` -> instance dict (None for headers).

    With ``cls_map`` (name -> index) the class must be known and ``bbox_label`` is its index;
    with None any class name is accepted and ``bbox_label`` is the name itself.

    Args:
        line (str): one line of a DOTA label file.
        cls_map (dict, optional): class name -> label index; None accepts any class name.
        path (str): the label file, for the error messages.
        lineno (int): the line number in ``path``, for the error messages.

    Returns:
        dict | None: ``dict(bbox=[x1, y1, ..., x4, y4] (8 floats, pixels), bbox_label=index or name,
        difficulty=int (0 when the field is absent))``; None for a blank line or a one-field header
        holding ``':'`` (``imagesource:``/``gsd:`` of raw DOTA files).

    Raises:
        DOTAFormatError: naming the file and the line: not 9 or 10 fields, a non-numeric or non-finite
            coordinate, an unknown class (with ``cls_map``), a non-integer difficulty.
    """
    fields = line.split()
    if not fields or (len(fields) == 1 and ':' in fields[0]):
        return None  # blank line or the 'imagesource:'/'gsd:' header of raw DOTA files
    if len(fields) not in (9, 10):
        raise DOTAFormatError(f'{path}:{lineno}: expected 9 or 10 fields '
                              f'(x1 y1 x2 y2 x3 y3 x4 y4 class difficulty), got {len(fields)}: {line.strip()!r}')
    try:
        bbox = [float(v) for v in fields[:8]]
    except ValueError:
        raise DOTAFormatError(f'{path}:{lineno}: non-numeric coordinate in {line.strip()!r}') from None
    if not all(math.isfinite(v) for v in bbox):
        # float() accepts 'nan'/'inf'; such a box would make every anchor of the image positive
        raise DOTAFormatError(f'{path}:{lineno}: non-finite coordinate in {line.strip()!r}')
    if cls_map is not None and fields[8] not in cls_map:
        raise DOTAFormatError(f'{path}:{lineno}: unknown class {fields[8]!r}; known: {", ".join(cls_map)}')
    try:
        difficulty = int(fields[9]) if len(fields) == 10 else 0
    except ValueError:
        raise DOTAFormatError(f'{path}:{lineno}: difficulty must be an integer, got {fields[9]!r}') from None
    label = cls_map[fields[8]] if cls_map is not None else fields[8]
    return dict(bbox=bbox, bbox_label=label, difficulty=difficulty)


def filter_rotated_data(data_list: List[dict], filter_cfg: Optional[dict], test_mode: bool,
                        ann_source: str = 'ann_file') -> List[dict]:
    """The ``filter_data`` of the rotated-box datasets (DOTA, HRSC), with mmrotate dev-1.x's rule.

    Nothing is dropped in test mode. Otherwise, ``filter_cfg``:

    - ``filter_empty_gt`` (default False) drops the images with no object at
      all; an image whose objects are all ignored (``ignore_flag``: HRSC's
      difficult, DOTA's difficulty above ``diff_thr``) is kept, as mmrotate
      keeps it: a background image whose ignored regions are known;
    - ``min_size`` (default 0, mmrotate's HRSC) drops the images whose smaller
      side (``width``/``height`` from the annotation) is below it. DOTA
      annotations carry no image size, so a ``min_size`` there is refused
      rather than silently ignored.

    Filters that leave no image at all raise a ``ValueError`` naming
    ``ann_source`` (mmengine would fail later with "need at least one array
    to concatenate").

    Args:
        data_list (list[dict]): the dataset's entries, each with ``instances`` (and ``width``/``height``
            for ``min_size``).
        filter_cfg (dict, optional): the dataset's ``filter_cfg``; None filters nothing.
        test_mode (bool): the dataset's ``test_mode``; True keeps every image.
        ann_source (str): what the annotations are, for the error messages. Defaults to ``'ann_file'``.

    Returns:
        list[dict]: the kept entries, in their order.

    Raises:
        ValueError: a ``min_size`` with entries lacking ``width``/``height``, or filters leaving no image.
    """
    if test_mode:
        return data_list
    filter_cfg = filter_cfg or {}
    filter_empty_gt = filter_cfg.get('filter_empty_gt', False)
    min_size = filter_cfg.get('min_size', 0)
    if min_size and any('width' not in d or 'height' not in d for d in data_list):
        raise ValueError(f'filter_cfg.min_size={min_size}: the annotations give no image size '
                         '(width/height) to compare it with')
    kept = []
    for d in data_list:
        if filter_empty_gt and not d['instances']:
            continue
        if min_size and min(d['width'], d['height']) < min_size:
            continue
        kept.append(d)
    if data_list and not kept:
        if filter_empty_gt and not any(d['instances'] for d in data_list):
            raise ValueError(f'{ann_source}: none of the {len(data_list)} annotations has an object, so '
                             'filter_cfg.filter_empty_gt=True leaves no training image (empty label files?)')
        raise ValueError(f'{ann_source}: filter_cfg={filter_cfg} leaves none of the {len(data_list)} images')
    return kept


def _suffix_hint(folder: str, img_suffix: Optional[str]) -> str:
    """``"; the folder has N '*.jpg' files: set img_suffix='jpg'"`` when ``folder`` holds images of another
    extension than ``img_suffix`` (the most frequent one is named); ``''`` otherwise."""
    if img_suffix is None or '://' in folder or not osp.isdir(folder):
        return ''
    counts = Counter(ext for ext in (osp.splitext(name)[1][1:] for name in os.listdir(folder))
                     if ext.lower() in _IMAGE_EXTS and ext != img_suffix)
    if not counts:
        return ''
    ext, num = counts.most_common(1)[0]
    return (f"; the folder {folder} has {num} '*.{ext}' file(s) while the dataset looks for '*.{img_suffix}': "
            f"set img_suffix='{ext}' in the dataset config")


def _check_images(images: List[Tuple[str, str]], img_suffix: Optional[str] = None) -> None:
    """Raise unless every ``(image path, where it is listed)`` names an existing, non-empty file.

    One ``os.stat`` per image, no decoding. Paths with a URI scheme (a remote
    file backend) are left to the loading transform. When images are
    missing and their folder holds images of another extension, the error
    says which ``img_suffix`` to set.
    """
    missing, empty, missing_dirs = [], [], []
    for path, source in images:
        if '://' in path:
            continue
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            missing.append(f'{path} (for {source})')
            missing_dirs.append(osp.dirname(path))
            continue
        if size == 0:
            empty.append(f'{path} (for {source})')
    for bad, what, err in ((missing, 'missing', FileNotFoundError), (empty, 'empty (0 bytes)', ValueError)):
        if bad:
            more = f' and {len(bad) - 5} more' if len(bad) > 5 else ''
            hint = _suffix_hint(missing_dirs[0], img_suffix) if bad is missing else ''
            raise err(f'{len(bad)} image(s) {what}: ' + '; '.join(bad[:5]) + more + hint)


@DATASETS.register_module()
class DOTADataset(BaseDataset):
    """DOTA: ``data_prefix['img_path']`` images and ``ann_file`` folder of ``<img_id>.txt`` files.

    Each line is ``x1 y1 x2 y2 x3 y3 x4 y4 class difficulty`` (quadrilateral
    boxes, ``qbox``). Objects with difficulty above ``diff_thr`` are
    ignored in training and evaluation. An image without objects has an
    empty (or header-only) txt. With ``ann_file=''`` the images are listed
    without annotations (test-dev) and ``filter_cfg`` drops none of them
    (mmrotate keeps them too). Every image must exist and be non-empty:
    checked here (one ``stat`` each) rather than when first loaded; when
    none matches, the error names the extension the image folder holds
    (``set img_suffix='jpg'``).

    Logged once per dataset (a WARNING in the run's log), nothing decoded:

    - images of ``data_prefix['img_path']`` without a label file: they are
      skipped (as ``tools/data/dota/split.py`` skips them), with their count
      and first names; an image without objects needs an empty label file;
    - boxes that cannot be pixels (all coordinates in [0, 1], or nearly all
      boxes under 2 px a side: labels normalised to 0-1), naming ``ann_file``
      and example label files (:func:`~visiondiv.utils.validation.box_scale_warning`).

    Args:
        diff_thr (int): difficulty above which an object is ignored (``ignore_flag=1``). Defaults to 100
            (as mmrotate: DOTA's difficulties are 0 and 1, so nothing is ignored).
        img_suffix (str): image extension, without the dot. Defaults to ``'png'``.
        strict (bool): raise on a malformed line; with False,
            skip such lines with one warning per file. Defaults to True.
        **kwargs: the arguments of mmengine's ``BaseDataset``: ``ann_file`` (the folder of txt label
            files, or ``''``), ``data_root``, ``data_prefix`` (``img_path``: the image folder),
            ``filter_cfg`` (see :func:`filter_rotated_data`), ``metainfo``, ``pipeline``, ``test_mode``...
    """

    METAINFO = dict(classes=DOTA_V1_CLASSES, palette=_palette(len(DOTA_V1_CLASSES)))

    def __init__(self, diff_thr: int = 100, img_suffix: str = 'png', strict: bool = True, **kwargs) -> None:
        self.diff_thr, self.img_suffix, self.strict = diff_thr, img_suffix, strict
        super().__init__(**kwargs)

    def _image_info(self, img_id: str) -> dict:
        name = f'{img_id}.{self.img_suffix}'
        return dict(img_id=img_id, file_name=name, img_path=osp.join(self.data_prefix.get('img_path', ''), name))

    def load_data_list(self) -> List[dict]:
        classes = self.metainfo['classes']
        cls_map = {c: i for i, c in enumerate(classes)}
        if self.ann_file == '':
            img_dir = self.data_prefix.get('img_path', '')
            files = sorted(glob.glob(osp.join(img_dir, f'*.{self.img_suffix}')))
            if not files:
                raise FileNotFoundError(f"no '*.{self.img_suffix}' images in {img_dir} (data_prefix.img_path)"
                                        + _suffix_hint(img_dir, self.img_suffix))
            data_list = [dict(self._image_info(osp.splitext(osp.basename(f))[0]), instances=[]) for f in files]
            _check_images([(d['img_path'], "no label file (ann_file='')") for d in data_list])
            return data_list
        if not osp.isdir(self.ann_file):
            raise FileNotFoundError(f'DOTA ann_file must be a folder of txt files: {self.ann_file} not found')
        txt_files = sorted(glob.glob(osp.join(self.ann_file, '*.txt')))
        if not txt_files:
            raise FileNotFoundError(f'no txt annotation files in {self.ann_file} (ann_file)')
        data_list = []
        for txt in txt_files:
            info = self._image_info(osp.splitext(osp.basename(txt))[0])
            instances, skipped = [], []
            with open(txt) as f:
                for lineno, line in enumerate(f, 1):
                    try:
                        inst = parse_dota_line(line, cls_map, txt, lineno)
                    except DOTAFormatError as err:
                        if self.strict:
                            raise
                        skipped.append(str(err))
                        continue
                    if inst is not None:
                        inst['ignore_flag'] = int(inst.pop('difficulty') > self.diff_thr)
                        instances.append(inst)
            if skipped:
                warnings.warn(f'{txt}: skipped {len(skipped)} malformed line(s); first: {skipped[0]}')
            info['instances'] = instances
            data_list.append(info)
        _check_images([(d['img_path'], f'label file {txt}') for d, txt in zip(data_list, txt_files)],
                      self.img_suffix)
        self._warn_unlabelled_images(data_list)
        message = box_scale_warning([(txt, [inst['bbox'] for inst in d['instances']])
                                     for d, txt in zip(data_list, txt_files)], f'ann_file {self.ann_file}')
        if message is not None:
            print_log(message, logger='current', level=logging.WARNING)
        return data_list

    def _warn_unlabelled_images(self, data_list: List[dict]) -> None:
        """Log the images of ``data_prefix.img_path`` that have no label file: they are skipped, not background."""
        img_dir = self.data_prefix.get('img_path', '')
        if '://' in img_dir or not osp.isdir(img_dir):
            return
        labelled = {d['file_name'] for d in data_list}
        images = glob.glob(osp.join(img_dir, f'*.{self.img_suffix}'))
        unlabelled = sorted(name for name in map(osp.basename, images) if name not in labelled)
        if unlabelled:
            more = f' and {len(unlabelled) - 5} more' if len(unlabelled) > 5 else ''
            print_log(f'{img_dir} (data_prefix.img_path): {len(unlabelled)} image(s) have no label file in '
                      f'{self.ann_file} and are skipped (give an image without objects an empty label file to '
                      f'train it as background): {", ".join(unlabelled[:5])}{more}',
                      logger='current', level=logging.WARNING)

    def filter_data(self) -> List[dict]:
        """Images kept for training: :func:`filter_rotated_data` (an image of ignored objects only is kept).

        Without annotations (``ann_file=''``) every image is kept: there is no ground truth to be empty.
        """
        if not self.ann_file:
            return self.data_list
        return filter_rotated_data(self.data_list, self.filter_cfg, self.test_mode, f'ann_file {self.ann_file}')

    def get_cat_ids(self, idx: int) -> List[int]:
        """Labels of all objects of image ``idx`` (for ``ClassBalancedDataset``)."""
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]


@DATASETS.register_module()
class DOTAv15Dataset(DOTADataset):
    """DOTA v1.5 (16 classes)."""
    METAINFO = dict(classes=DOTA_V15_CLASSES, palette=_palette(len(DOTA_V15_CLASSES)))


@DATASETS.register_module()
class DOTAv2Dataset(DOTADataset):
    """DOTA v2.0 (18 classes)."""
    METAINFO = dict(classes=DOTA_V2_CLASSES, palette=_palette(len(DOTA_V2_CLASSES)))
