"""Detect rotated objects in images: a detector loaded with the checks of ``tools/test.py``, inference that
warns when an image is shrunk far below the scale the detector works at, and inference by patches for
images much larger than that scale (mmrotate 0.x's ``inference_detector_by_patches``).

mmdet's ``init_detector`` loads a checkpoint with ``strict=False``: a checkpoint of another model (or one
that covers part of the model) loads with a log line, and the detector draws boxes from random weights.
:func:`init_detector` loads through :func:`visiondiv.utils.checkpoint.load_checkpoint_checked` instead, as
every visiondiv entry point does: the checkpoint must cover the whole model, and the classes it was trained
on must be the config's test dataset's, in the same order (``remap_classes=True`` permutes its classifier
rows; ``ignore_checkpoint_classes=True`` loads it as it is).
"""
import copy
import os.path as osp
import warnings
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmcv.ops import nms_rotated
from mmcv.transforms import Compose
from mmdet.apis import inference_detector as _mmdet_inference_detector
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.utils import get_test_pipeline_cfg
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from visiondiv.datasets.patches import PATCH_PADDING_VALUE, crop_patch, sliding_windows
from visiondiv.datasets.transforms.loading import decode_image
from visiondiv.registry import DATASETS, MODELS
from visiondiv.utils.checkpoint import checkpoint_classes, class_options, load_checkpoint_checked
from visiondiv.utils.validation import merge_cfg_options

#: an input shrunk by more than this factor (longer side / what the test pipeline makes of it) is warned about
SHRINK_WARN_FACTOR = 2.0
#: how patch detections are merged by default: mmrotate's ``merge_iou_thr`` of ``huge_image_demo.py``
DEFAULT_PATCH_NMS = dict(type='nms_rotated', iou_threshold=0.1)

ImageType = Union[str, np.ndarray]


def _test_metainfo(cfg: Config, source: str = '<config>') -> dict:
    """The metainfo of the config's test dataset (its class's ``METAINFO`` updated by the config's
    ``metainfo``), built lazily as mmdet's ``init_detector`` does: no file is read. A dataset that cannot be
    built so (a wrapper without ``lazy_init``, an unknown type...) falls back to the config's ``metainfo``, with
    a warning when that names no classes (the class check against the checkpoint is then skipped)."""
    dataset_cfg = (cfg.get('test_dataloader') or {}).get('dataset')
    if not dataset_cfg:
        return {}
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg['lazy_init'] = True
    try:
        return dict(DATASETS.build(dataset_cfg).metainfo)
    except (TypeError, KeyError, ValueError, OSError) as err:
        metainfo = dict(dataset_cfg.get('metainfo') or {})
        if not metainfo.get('classes'):
            warnings.warn(f'{source}: test_dataloader.dataset ({dataset_cfg.get("type")}) could not be built to read '
                          f'its classes ({type(err).__name__}: {err}); the checkpoint\'s classes are not checked '
                          'against the config\'s')
        return metainfo


def init_detector(config: Union[str, Path, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
                  cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a detector from a config and load a checkpoint into it, checked (mmdet's ``init_detector``).

    As mmdet's: the config's ``default_scope`` becomes the default scope, the
    backbone's ``init_cfg`` is dropped (the weights come from the checkpoint),
    SyncBN is reverted, and the model gets ``cfg`` and ``dataset_meta``
    (``classes``, ``palette``: the checkpoint's ``meta.dataset_meta``, with the
    config's test dataset's palette first, else ``'random'``). Unlike mmdet's, the checkpoint is
    loaded by :func:`~visiondiv.utils.checkpoint.load_checkpoint_checked`: it must
    cover the whole model, and when both the checkpoint and the config's test
    dataset name their classes, the names must agree in order (the config's
    top-level ``remap_classes=True`` permutes the checkpoint's classifier rows
    to the config's order; ``ignore_checkpoint_classes=True`` loads it as it
    is); ``dataset_meta['classes']`` then lists the config's classes. Without a
    checkpoint the model keeps its random initialisation (a warning) and
    ``dataset_meta`` is the config's test dataset's metainfo.

    Args:
        config (str | Path | Config): the config file or a loaded config (copied, not changed).
        checkpoint (str, optional): the checkpoint's path (or URL). Defaults to None.
        device (str): where the model goes, ``'cpu'``, ``'cuda:0'``... Defaults to 'cpu'.
        cfg_options (dict, optional): overrides merged into the config, type-checked as every tool's
            ``--cfg-options`` (``visiondiv.utils.merge_cfg_options``), e.g. ``{'remap_classes': True}``.
            Defaults to None.

    Returns:
        nn.Module: the detector, in eval mode on ``device``.

    Raises:
        TypeError: ``config`` is neither a path nor a ``Config``, or a ``cfg_options`` value has another type
            than the config value it replaces.
        FileNotFoundError: naming a local checkpoint that does not exist.
        CheckpointMismatchError: naming the checkpoint: of another model, covering part of this one, or
            trained on other classes than the config's test dataset (both lists and the key to set are named).
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = copy.deepcopy(config)
    else:
        raise TypeError(f'config must be a file name or a Config, got {type(config).__name__}')
    merge_cfg_options(config, cfg_options)       # the type check of every tool's --cfg-options
    backbone = config.model.get('backbone')
    if isinstance(backbone, dict) and 'init_cfg' in backbone:
        backbone.init_cfg = None
    scope = config.get('default_scope', 'visiondiv')
    if scope is not None:
        init_default_scope(scope)
    source = getattr(config, 'filename', None) or '<config>'
    options = class_options(config, source)
    model = revert_sync_batchnorm(MODELS.build(config.model))
    metainfo = _test_metainfo(config, source)
    classes = tuple(metainfo['classes']) if metainfo.get('classes') else None
    if checkpoint is None:
        warnings.warn(f'{source}: no checkpoint given: the detector keeps its random initialisation')
        dataset_meta = dict(metainfo)
    else:
        loaded = load_checkpoint_checked(model, checkpoint, map_location='cpu', complete=True, classes=classes,
                                         classes_source=f'test_dataloader.dataset of {source}', **options)
        meta = loaded.get('meta') if isinstance(loaded.get('meta'), dict) else {}
        dataset_meta = {k.lower(): v for k, v in (meta.get('dataset_meta') or {}).items()}
        names = classes or checkpoint_classes(loaded)
        if names is None:
            warnings.warn(f'{checkpoint}: neither the checkpoint nor {source} names the classes: predictions are '
                          'labelled by class index')
        else:
            dataset_meta['classes'] = names
        if names != checkpoint_classes(loaded):
            dataset_meta.pop('palette', None)       # the checkpoint's colours follow its own order
        if metainfo.get('palette') is not None:
            dataset_meta['palette'] = metainfo['palette']
    dataset_meta.setdefault('palette', 'random')          # as mmdet's: the visualizer needs one
    model.dataset_meta = dataset_meta
    model.cfg = config
    model.to(device)
    model.eval()
    return model


def _pipeline_scale(cfg: Config) -> str:
    """The scale setting of the test pipeline's first resize step, as written in the config."""
    try:
        pipeline = get_test_pipeline_cfg(cfg)
    except (RuntimeError, AttributeError, KeyError):
        return 'unknown'
    for step in pipeline:
        for key in ('scale', 'scale_factor', 'img_scale'):
            if key in step:
                return f"{step.get('type')} {key}={tuple(step[key]) if isinstance(step[key], list) else step[key]}"
    return 'unknown'


def _warn_if_shrunk(model: nn.Module, result: DetDataSample, name: str,
                    factor_thr: float = SHRINK_WARN_FACTOR) -> float:
    """Warn when the test pipeline shrank the input by more than ``factor_thr``; returns the factor."""
    meta = result.metainfo
    height, width = meta.get('ori_shape', (0, 0))[:2]
    if 'scale_factor' in meta:
        factor = 1.0 / min(float(s) for s in meta['scale_factor'])
    elif 'img_shape' in meta and width and height:
        factor = max(width, height) / max(meta['img_shape'][:2])
    else:
        return 1.0
    if factor > factor_thr:
        new_h, new_w = meta.get('img_shape', (round(height / factor), round(width / factor)))[:2]
        warnings.warn(
            f'{name}: the {width}x{height} image is shrunk {factor:.1f}x to {new_w}x{new_h} by the test pipeline '
            f'({_pipeline_scale(model.cfg)}): objects of the size the detector was trained on get {factor:.1f} '
            'times smaller and may be missed. Detect in patches of about the training scale instead '
            '(demo/image_demo.py --patch-size, visiondiv.apis.inference_detector_by_patches)', stacklevel=3)
    return factor


#: the arguments of mmdet's ``LoadImageFromNDArray`` (a ``LoadImageFromFile``) that a file loader's config may carry
_NDARRAY_LOADER_ARGS = ('to_float32', 'color_type', 'imdecode_backend', 'ignore_empty', 'backend_args')


def ndarray_pipeline(pipeline_cfg: Sequence[dict]) -> List[dict]:
    """A test pipeline for BGR arrays: its loader replaced by mmdet's ``LoadImageFromNDArray``.

    mmdet's ``inference_detector`` swaps the loader's type and keeps its arguments, so a loader with arguments
    of its own (``LoadImageFromFileBitDepth``'s ``bit_depth``) fails to build; here only the arguments the
    array loader takes are kept (an array is decoded already: its bit depth is the caller's).

    Args:
        pipeline_cfg (Sequence[dict]): the test pipeline's config, its first step the file loader.

    Returns:
        list[dict]: a copy with the array loader first.
    """
    cfg = copy.deepcopy(list(pipeline_cfg))
    cfg[0] = dict(type='mmdet.LoadImageFromNDArray',
                  **{k: v for k, v in cfg[0].items() if k in _NDARRAY_LOADER_ARGS})
    return cfg


def read_image_as_pipeline(path: str, pipeline_cfg: Sequence[dict]) -> np.ndarray:
    """Read an image file as the test pipeline's loader does, for patch inference and drawing.

    With a ``bit_depth`` loader (``LoadImageFromFileBitDepth``) a 12/16-bit image is brought to 8 bits by that
    rule (``decode_image``); with any other loader it is read as mmcv reads it (``mmcv.imread``).

    Args:
        path (str): the image file.
        pipeline_cfg (Sequence[dict]): the test pipeline's config, its first step the file loader.

    Returns:
        np.ndarray: the image, BGR (or as the loader's ``color_type`` says).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be decoded as an image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    loader = dict(pipeline_cfg[0]) if pipeline_cfg else {}
    if 'bit_depth' not in loader:
        img = mmcv.imread(path, flag=loader.get('color_type', 'color'))
    else:
        with open(path, 'rb') as f:
            img = decode_image(f.read(), bit_depth=loader['bit_depth'], color_type=loader.get('color_type', 'color'),
                               imdecode_backend=loader.get('imdecode_backend', 'cv2'), source=path)
    if img is None:
        raise ValueError(f'{path}: cannot decode this file as an image')
    return img


def _name(image, index: int) -> str:
    return image if isinstance(image, str) else f'image {index} (an array)'


def inference_detector(model: nn.Module, imgs: Union[ImageType, Sequence[ImageType]],
                       test_pipeline: Optional[Compose] = None) -> Union[DetDataSample, List[DetDataSample]]:
    """mmdet's ``inference_detector``, with a warning for an input shrunk far below the detector's scale.

    An image resized by the test pipeline to less than ``1 / SHRINK_WARN_FACTOR``
    of its size (e.g. a 3000 x 3000 aerial image into a 384 px pipeline) has its
    objects shrunk as much, and a detector trained at the pipeline's scale misses
    them without a word; the warning names the image, its size, the pipeline's
    scale and the factor, and points to :func:`inference_detector_by_patches`.

    Args:
        model (nn.Module): a detector from :func:`init_detector` (it needs ``model.cfg``).
        imgs (str | np.ndarray | Sequence[str | np.ndarray]): image files or BGR arrays.
        test_pipeline (Compose, optional): the pipeline; None: the config's test pipeline. Defaults to None.

    Returns:
        DetDataSample | list[DetDataSample]: the predictions (one per image for a sequence).
    """
    batch = isinstance(imgs, (list, tuple))
    if test_pipeline is None and isinstance((imgs[0] if batch and imgs else imgs), np.ndarray):
        test_pipeline = Compose(ndarray_pipeline(get_test_pipeline_cfg(model.cfg)))
    results = _mmdet_inference_detector(model, imgs, test_pipeline)
    for i, (img, result) in enumerate(zip(imgs if batch else [imgs], results if batch else [results])):
        _warn_if_shrunk(model, result, _name(img, i))
    return results


def _as_list(value: Union[int, float, Sequence], name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f'{name} is empty')
    return values


def _shifted(instances: InstanceData, dx: float, dy: float) -> InstanceData:
    """Move the rotated boxes of a patch's predictions to image coordinates."""
    boxes = instances.bboxes
    tensor = boxes.tensor if isinstance(boxes, BaseBoxes) else boxes
    if tensor.size(-1) != 5:
        raise ValueError(f'patch inference merges rotated boxes (cx, cy, w, h, angle); the model predicts boxes '
                         f'of {tensor.size(-1)} values')
    moved = tensor.clone()
    moved[:, 0] += dx
    moved[:, 1] += dy
    instances = instances.clone()
    instances.bboxes = type(boxes)(moved) if isinstance(boxes, BaseBoxes) else moved
    return instances


def merge_rotated_by_nms(instances: InstanceData, iou_threshold: float) -> InstanceData:
    """Rotated NMS within each class, in fp32 (mmcv's ``nms_rotated``); the kept ones by descending score.

    mmcv's ``nms_rotated(..., labels=...)`` does not keep classes apart on
    every device, so the classes are suppressed one at a time.

    Args:
        instances (InstanceData): ``bboxes`` (rotated: ``RotatedBoxes`` or (n, 5) cx, cy, w, h, angle),
            ``scores`` and ``labels``.
        iou_threshold (float): a box overlapping a higher-scored one of its class by more is dropped.

    Returns:
        InstanceData: the kept instances.
    """
    boxes = instances.bboxes.tensor if isinstance(instances.bboxes, BaseBoxes) else instances.bboxes
    boxes, scores, labels = boxes.float(), instances.scores.float(), instances.labels
    keep = [torch.zeros(0, dtype=torch.long, device=scores.device)]
    for label in labels.unique():
        index = torch.nonzero(labels == label).squeeze(1)
        _, kept = nms_rotated(boxes[index], scores[index], float(iou_threshold))
        keep.append(index[kept])
    keep = torch.cat(keep)
    return instances[keep[scores[keep].argsort(descending=True)]]


def patch_windows(image_shape: Tuple[int, int], patch_size: Union[int, Sequence[int]] = 1024,
                  patch_overlap: Union[int, Sequence[int]] = 200, img_ratios: Sequence[float] = (1.0,)) -> np.ndarray:
    """The windows :func:`inference_detector_by_patches` detects in, for an image of ``image_shape``.

    Args:
        image_shape (tuple[int, int]): the image's (height, width).
        patch_size (int | Sequence[int]): as :func:`inference_detector_by_patches`. Defaults to 1024.
        patch_overlap (int | Sequence[int]): as :func:`inference_detector_by_patches`. Defaults to 200.
        img_ratios (Sequence[float]): as :func:`inference_detector_by_patches`. Defaults to (1.0,).

    Returns:
        np.ndarray: (n, 4) windows (x1, y1, x2, y2).

    Raises:
        ValueError: naming the argument: a ``patch_size`` not a positive int, a ``patch_overlap`` not a
            non-negative int or not smaller than its ``patch_size``, one not matching ``patch_size``, or an
            ``img_ratios`` value <= 0.
    """
    sizes, gaps = _as_list(patch_size, 'patch_size'), _as_list(patch_overlap, 'patch_overlap')
    for name, values, low in (('patch_size', sizes, 1), ('patch_overlap', gaps, 0)):
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f'{name} must be {"positive" if low else "non-negative"} whole pixels, got {v!r}')
    if len(gaps) == 1:
        gaps = gaps * len(sizes)
    if len(gaps) != len(sizes):
        raise ValueError(f'patch_overlap {gaps} must have one value, or one per patch_size {sizes}')
    for size, gap in zip(sizes, gaps):
        if gap >= size:
            raise ValueError(f'patch_overlap {gap} must be smaller than patch_size {size} (the windows advance by '
                             'patch_size - patch_overlap px)')
    ratios = _as_list(img_ratios, 'img_ratios')
    if any(isinstance(r, bool) or not isinstance(r, (int, float)) or r <= 0 for r in ratios):
        raise ValueError(f'img_ratios must be positive numbers, got {ratios}')
    return sliding_windows(int(image_shape[1]), int(image_shape[0]), [int(s / r) for r in ratios for s in sizes],
                           [int(g / r) for r in ratios for g in gaps])


def _patch_shapes(windows: np.ndarray, image_shape: Tuple[int, int], padded: bool) -> np.ndarray:
    """(n, 2) (height, width) of the patches :func:`~visiondiv.datasets.patches.crop_patch` cuts at ``windows``
    (n, 4): the windows' own sizes when ``padded``, else the part of each inside the image."""
    x1, y1, x2, y2 = windows.T
    if not padded:
        x2, y2 = np.minimum(x2, image_shape[1]), np.minimum(y2, image_shape[0])
    return np.stack([y2 - y1, x2 - x1], 1)


def _detect_batch(model: nn.Module, pipeline: Compose, patches: List[np.ndarray]) -> List[DetDataSample]:
    """The detector's predictions on arrays, through the test pipeline, in one ``test_step``."""
    data = [pipeline(dict(img=patch, img_id=i)) for i, patch in enumerate(patches)]
    with torch.no_grad():
        return model.test_step(dict(inputs=[d['inputs'] for d in data], data_samples=[d['data_samples'] for d in data]))


def inference_detector_by_patches(model: nn.Module, image: ImageType,
                                  patch_size: Union[int, Sequence[int]] = 1024,
                                  patch_overlap: Union[int, Sequence[int]] = 200,
                                  nms_cfg: Optional[dict] = None, img_ratios: Sequence[float] = (1.0,),
                                  padding_value: Optional[Union[int, Sequence[int]]] = PATCH_PADDING_VALUE,
                                  batch_size: int = 4) -> DetDataSample:
    """Detect in overlapping patches of a large image, each at its own scale, and merge (mmrotate 0.x's).

    The windows are those of ``tools/data/dota/split.py``
    (:func:`~visiondiv.datasets.patches.sliding_windows`): ``patch_size`` px every
    ``patch_size - patch_overlap`` px, the last one moved back to end at the
    border, windows the image covers by more than 60 %; windows reaching past
    the image are padded with ``padding_value``. Along a side of ``L`` px the windows start at
    ``0, s, 2 s, ...`` with ``s = patch_size - patch_overlap``, the last one at ``L - patch_size`` (a 1000 px
    side with 400/100: 0, 300, 600); a side shorter than a window gets one, padded. Each patch goes through the
    test pipeline and the detector as an image of its own (so a patch of about
    the training scale is not shrunk), ``batch_size`` patches of one shape per
    ``test_step``; its boxes are moved by the patch's
    origin, and the detections of all patches are merged by rotated NMS within
    each class (:func:`merge_rotated_by_nms`). With ``img_ratios``, as mmrotate's
    ``get_multiscale_patch``, windows of ``patch_size / ratio`` px are added for
    each ratio (the pipeline then resizes them: a ratio of 0.5 detects at half
    the resolution). mmrotate's ``huge_image_demo.py --patch_sizes 1024
    --patch_steps 824 --merge_iou_thr 0.1`` is ``patch_size=1024,
    patch_overlap=200``, with the default ``nms_cfg``.

    Args:
        model (nn.Module): a detector from :func:`init_detector` predicting rotated boxes.
        image (str | np.ndarray): an image file or a BGR array.
        patch_size (int | Sequence[int]): the window size(s) in px. Defaults to 1024.
        patch_overlap (int | Sequence[int]): the overlap of neighbouring windows in px, one per size (one
            value serves every size). Defaults to 200.
        nms_cfg (dict, optional): the merge, ``dict(type='nms_rotated', iou_threshold=...)``. Defaults to None
            (``DEFAULT_PATCH_NMS``: IoU 0.1).
        img_ratios (Sequence[float]): the resolutions to detect at (window ``size / ratio``). Defaults to (1.0,).
        padding_value (int | Sequence[int], optional): the fill of windows reaching past the image (BGR); None:
            no padding, such a patch is the part of the window inside the image (batched only with patches of
            its own shape). Defaults to ``PATCH_PADDING_VALUE``, the value of ``tools/data/dota/split.py``.
        batch_size (int): patches per forward pass. Defaults to 4.

    Returns:
        DetDataSample: the merged predictions in image coordinates, with ``ori_shape`` = ``img_shape`` = the
        image's (h, w), ``scale_factor`` (1, 1) and ``img_path`` for a file.

    Raises:
        ValueError: naming the argument: a bad ``patch_size``, ``patch_overlap`` or ``img_ratios`` (see
            :func:`patch_windows`), a ``batch_size`` < 1, an ``nms_cfg`` of another type; or a model that does
            not predict rotated boxes.
    """
    nms_cfg = dict(DEFAULT_PATCH_NMS if nms_cfg is None else nms_cfg)
    if nms_cfg.pop('type', 'nms_rotated') != 'nms_rotated':
        raise ValueError(f"nms_cfg: patch detections are merged with type='nms_rotated', got {nms_cfg}")
    iou_threshold = nms_cfg.pop('iou_threshold', DEFAULT_PATCH_NMS['iou_threshold'])
    if nms_cfg:
        raise ValueError(f'nms_cfg: unknown keys {sorted(nms_cfg)} (iou_threshold only)')
    name = _name(image, 0)
    test_pipeline = copy.deepcopy(get_test_pipeline_cfg(model.cfg))
    img = read_image_as_pipeline(image, test_pipeline) if isinstance(image, str) else image
    height, width = img.shape[:2]
    windows = patch_windows((height, width), patch_size, patch_overlap, img_ratios)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f'batch_size must be a positive int, got {batch_size!r}')
    pipeline = Compose(ndarray_pipeline(test_pipeline))
    parts = []
    shapes = _patch_shapes(windows, (height, width), padded=padding_value is not None)
    # a batch holds patches of one shape (one input size after the pipeline: nothing padded in the batch)
    for shape in np.unique(shapes, axis=0):
        group = windows[(shapes == shape).all(1)]
        for start in range(0, len(group), batch_size):
            batch = group[start:start + batch_size]
            results = _detect_batch(model, pipeline, [crop_patch(img, w, padding_value) for w in batch])
            if start == 0:
                size = int(group[0, 2] - group[0, 0])
                _warn_if_shrunk(model, results[0], f'{name} (a patch of {size} px)')
            parts += [_shifted(r.pred_instances, float(w[0]), float(w[1])) for r, w in zip(results, batch)]
    merged = merge_rotated_by_nms(InstanceData.cat(parts), iou_threshold)
    meta = dict(ori_shape=(height, width), img_shape=(height, width), scale_factor=(1.0, 1.0))
    if isinstance(image, str):
        meta['img_path'] = osp.abspath(image)
    sample = DetDataSample(metainfo=meta)
    sample.pred_instances = merged
    return sample


