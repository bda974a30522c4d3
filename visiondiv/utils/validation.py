"""Validators shared by datasets, metrics, hooks and tools: each error names the file or config key.

A leaf module (numpy, torch and mmengine's ``Config`` only), so that every layer can use it: a metric that
checks its labels does not import the datasets, a hook that compares domains does not import the medical
readers, and ``visiondiv.apis.init_detector`` checks its ``cfg_options`` as the tools check ``--cfg-options``.
"""
import math
import numbers
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

#: values of a dataset's ``domain`` (compared after :func:`normalize_domain`)
DOMAINS = ('source', 'target')

#: heads whose ``num_classes`` must equal the number of dataset classes (mmdet one- and two-stage, mmseg);
#: an RPN's single "object" class is not the dataset's
_CLASS_HEADS = ('bbox_head', 'roi_head.bbox_head', 'roi_head.mask_head', 'decode_head', 'auxiliary_head')


class ConfigCheckError(ValueError):
    """A config that cannot work as written; the message names the config file and key."""


def check_window(window: Sequence[float], where: str = 'window') -> Tuple[float, float]:
    """``window`` as ``(lo, hi)`` floats if it is two finite numbers with lo < hi.

    Args:
        window (Sequence[float]): the two bounds, e.g. a CT window in HU.
        where (str): what the window is, for the error message. Defaults to ``'window'``.

    Returns:
        tuple[float, float]: ``(lo, hi)``.

    Raises:
        ValueError: naming ``where``, when ``window`` is not two finite numbers with lo < hi.
    """
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f'{where} must be two numbers (lo, hi), got {window!r}') from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f'{where} must be two finite numbers with lo < hi, got {window!r}')
    return lo, hi


def check_labels(label: np.ndarray, path: str, num_classes: Optional[int] = None) -> np.ndarray:
    """``label`` if its values are integers (in ``[0, num_classes)`` when given).

    Args:
        label (np.ndarray): a label map or label vector.
        path (str): where the labels come from (a file or an argument name), for the message.
        num_classes (int, optional): the number of classes; labels must lie in ``[0, num_classes)``.
            Defaults to None (any integer).

    Returns:
        np.ndarray: ``label``, unchanged.

    Raises:
        ValueError: naming ``path``, for non-integer labels or labels out of range.
    """
    if not np.all(np.equal(np.mod(label, 1), 0)):
        raise ValueError(f'{path}: labels must be integers')
    if num_classes is not None and label.size and (label.min() < 0 or label.max() >= num_classes):
        raise ValueError(f'{path}: labels must lie in [0, {num_classes}), found [{label.min()}, {label.max()}]')
    return label


def _check_bounded(value: Any, name: str, owner: str, strict: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or (value <= 0 if strict else value < 0):
        raise ValueError(f'{owner}: {name} must be a finite number {">" if strict else ">="} 0, got {value!r}')
    return float(value)


def check_positive(value: Any, name: str, owner: str) -> float:
    """``value`` as a float if it is a finite real number > 0 (a temperature, a regularisation strength).

    Args:
        value (Any): the value to check; a bool or a string is refused.
        name (str): the argument's name, for the message (e.g. ``'tau'``).
        owner (str): the class or function that takes it, for the message.

    Returns:
        float: ``value``.

    Raises:
        ValueError: ``'<owner>: <name> must be a finite number > 0, got <value>'``.
    """
    return _check_bounded(value, name, owner, strict=True)


def check_non_negative(value: Any, name: str, owner: str) -> float:
    """``value`` as a float if it is a finite real number >= 0 (an exponent, a weight, a smoothing term).

    Args:
        value (Any): the value to check; a bool or a string is refused.
        name (str): the argument's name, for the message (e.g. ``'gamma'``).
        owner (str): the class or function that takes it, for the message.

    Returns:
        float: ``value``.

    Raises:
        ValueError: ``'<owner>: <name> must be a finite number >= 0, got <value>'``.
    """
    return _check_bounded(value, name, owner, strict=False)


def check_finite(values: Union[np.ndarray, torch.Tensor], path: str, what: str = 'voxels'):
    """``values`` if every value is finite: one NaN would turn a whole volume NaN under per-volume normalisation,
    a whole batch's loss NaN in a network.

    Args:
        values (np.ndarray | Tensor): the values to check (a tensor is checked where it lies, CPU or GPU).
        path (str): where they come from (a file, an argument name, the class that takes them), for the message.
        what (str): what the values are, for the message. Defaults to ``'voxels'``.

    Returns:
        np.ndarray | Tensor: ``values``, unchanged.

    Raises:
        ValueError: naming ``path`` and counting the NaN and inf values.
    """
    lib = torch if isinstance(values, torch.Tensor) else np
    bad = ~lib.isfinite(values)
    if bad.any():
        nan, n_bad = int(lib.isnan(values).sum()), int(bad.sum())
        size = values.numel() if lib is torch else values.size
        raise ValueError(f'{path}: {n_bad} of {size} {what} are not finite ({nan} NaN, {n_bad - nan} inf)')
    return values


def box_scale_warning(boxes: Sequence[Tuple[str, Sequence[Sequence[float]]]], source: str, min_side: float = 2.0,
                      tiny_ratio: float = 0.9, num_examples: int = 3) -> Optional[str]:
    """A warning when a dataset's boxes cannot be pixel coordinates, e.g. labels normalised to [0, 1].

    Normalised labels (a common conversion mistake) train and evaluate to mAP 0 without an error. Two
    signs give them away, from the boxes alone (no image is decoded): every coordinate of every box lies
    in [0, 1], or at least ``tiny_ratio`` of the boxes are shorter than ``min_side`` px on every side.

    Args:
        boxes (Sequence[tuple[str, Sequence[Sequence[float]]]]): ``(label file, its boxes)`` pairs, each box
            the 8 corner coordinates ``x1 y1 ... x4 y4`` of a quadrilateral (a file may have no box).
        source (str): the annotations (e.g. ``'ann_file data/mine/labelTxt/'``), named first in the message.
        min_side (float): a box with every side shorter than this (in px) is implausibly small.
            Defaults to 2.0.
        tiny_ratio (float): the share of implausibly small boxes from which the dataset is suspect.
            Defaults to 0.9.
        num_examples (int): how many label files with such boxes the message names. Defaults to 3.

    Returns:
        str | None: the message, naming ``source``, the counts and the first ``num_examples`` label files with
        such boxes; None when the boxes look like pixels or there is no box.
    """
    owners: List[str] = []
    coords: List[Sequence[float]] = []
    for path, file_boxes in boxes:
        for box in file_boxes:
            owners.append(path)
            coords.append(box)
    if not coords:
        return None
    quads = np.asarray(coords, dtype=np.float64).reshape(-1, 4, 2)
    in_unit = (quads >= 0) & (quads <= 1)
    sides = np.linalg.norm(np.roll(quads, -1, axis=1) - quads, axis=2)
    tiny = (sides < min_side).all(axis=1)
    if in_unit.all():
        what = f'every coordinate of all {len(quads)} boxes lies in [0, 1]'
        bad = np.ones(len(quads), bool)
    elif tiny.mean() >= tiny_ratio:
        what = (f'{int(tiny.sum())} of the {len(quads)} boxes ({100 * tiny.mean():.0f} %) are smaller than '
                f'{min_side:g} px on every side')
        bad = tiny
    else:
        return None
    files = list(dict.fromkeys(owner for owner, b in zip(owners, bad) if b))
    more = f' and {len(files) - num_examples} more' if len(files) > num_examples else ''
    return (f'{source}: {what}: the labels look normalised to 0-1 (or in another unit), but box coordinates '
            'must be pixels of the image; such boxes train and evaluate to mAP 0 without an error. Label files '
            f'with such boxes: {", ".join(files[:num_examples])}{more}. Multiply x by the image width and y by '
            'its height.')


def normalize_domain(domain: Optional[str]) -> Optional[str]:
    """``domain`` stripped and lower-cased (``' Source'`` -> ``'source'``): the one spelling the source-free
    checks compare.

    Args:
        domain (str, optional): a dataset's ``domain`` setting; None is returned as it is.

    Returns:
        str, optional: the normalised domain.
    """
    return domain.strip().lower() if isinstance(domain, str) else domain


def _heads(model: Any) -> Iterator[Tuple[str, int]]:
    """``(config key, num_classes)`` of the model's classifying heads (a ModuleList counts each member)."""
    for path in _CLASS_HEADS:
        node = model
        for attr in path.split('.'):
            node = getattr(node, attr, None)
        members = list(node) if isinstance(node, nn.ModuleList) else [node]
        for i, head in enumerate(members):
            num = getattr(head, 'num_classes', None)
            if isinstance(num, int):
                yield (f'model.{path}[{i}]' if len(members) > 1 else f'model.{path}'), num


def check_num_classes(model: Any, metainfo: Optional[dict], dataset_key: str, source: str) -> None:
    """Refuse a head whose ``num_classes`` is not the dataset's number of classes.

    A detector with more outputs than the dataset has classes trains without
    error (the extra classes never get a positive) and one with fewer fails
    deep inside a loss or a metric; both are a config mistake.

    Args:
        model (Any): the built (unwrapped) model: heads are found under ``bbox_head``,
            ``roi_head.bbox_head``/``mask_head``, ``decode_head`` and ``auxiliary_head``.
        metainfo (dict, optional): the built dataset's ``metainfo`` (checked when it has ``classes``).
        dataset_key (str): where the dataset is configured, e.g. ``'train_dataloader.dataset'``.
        source (str): the config file, for the message.

    Raises:
        ConfigCheckError: naming the config file, the dataset key and the head's key.
    """
    classes = (metainfo or {}).get('classes')
    if not classes:
        return
    for key, num in _heads(model):
        if num != len(classes):
            raise ConfigCheckError(
                f'{source}: {dataset_key} has {len(classes)} classes (metainfo.classes = {tuple(classes)}) but '
                f'{key}.num_classes = {num}: set {key}.num_classes={len(classes)}, or name the '
                f'{num} classes in the dataset\'s metainfo')


_MISSING = object()


def _lookup(cfg: Any, key: str) -> Any:
    """The value at the dotted ``key`` (list items by index, as ``merge_from_dict`` allows), or ``_MISSING``."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (Mapping, Config)) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _expected(base: Any) -> Optional[Tuple[str, Tuple[type, ...]]]:
    """(description, accepted types) of an override of ``base``; None when any value may replace it.

    Only numbers and booleans are checked: they are what a typo turns into a
    string (``max_epochs=abc``) and what mmengine converts without naming the
    key; a number may replace an int (``max_norm=10.5``).
    """
    if isinstance(base, bool):
        return 'bool (true/false)', (bool,)
    if isinstance(base, (int, float)):
        return f'a number like the config\'s {type(base).__name__} {base!r}', (int, float)
    return None


def check_cfg_options(cfg: Config, options: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for a ``--cfg-options`` value of another type than the config's value it replaces.

    The message names the key, the given value and the expected type, and the
    config file. ``None`` is accepted everywhere (it disables an option), and
    new keys are not checked.

    Only numbers and booleans are checked: a bool must replace a bool, an int or a float (not a bool)
    must replace a number; list items are reached by index (``key.0``).

    Args:
        cfg (Config): the loaded config, before the options are merged.
        options (Mapping[str, Any]): the parsed ``--cfg-options`` (``key=value`` with dotted keys).

    Raises:
        TypeError: an option's value does not have the type of the config value it replaces.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    for key, value in options.items():
        base = _lookup(cfg, key)
        expected = None if base is _MISSING or value is None else _expected(base)
        if expected is None:
            continue
        description, types = expected
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise TypeError(f'--cfg-options {key}={value!r}: expected {description} (as {key} in {source}), '
                            f'got {type(value).__name__}')


def merge_cfg_options(cfg: Config, options: Optional[Mapping[str, Any]]) -> Config:
    """Check ``--cfg-options`` with :func:`check_cfg_options`, then merge them into ``cfg`` (in place).

    The one way every tool that takes ``--cfg-options`` applies them (``tools/train.py``,
    ``tools/test.py``, ``tools/misc/print_config.py``, ``tools/analysis_tools/browse_dataset.py``,
    ``tools/analysis_tools/benchmark.py``) and ``visiondiv.apis.init_detector`` its ``cfg_options``
    (``demo/image_demo.py``), so that a value one tool refuses is refused by all.

    Args:
        cfg (Config): the loaded config; changed in place.
        options (Mapping[str, Any], optional): the parsed ``--cfg-options``; None or empty changes nothing.

    Returns:
        Config: ``cfg``.

    Raises:
        TypeError: an option's value does not have the type of the config value it replaces.
    """
    if options:
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)
    return cfg
