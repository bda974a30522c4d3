"""Checks a config before a runner is built, so errors name the config key at fault.

mmengine's own errors for an unknown ``type`` or a missing file come from
deep inside the build and do not say where in the config the problem is.
:func:`check_num_classes` checks the built model against the built dataset
(run by ``CompatibilityCheckHook``: the dataset's classes are known once it is built).
"""
import difflib
import os.path as osp
from typing import Any, Iterable, Iterator, Optional, Tuple

from mmengine.config import Config, ConfigDict
from torch import nn

from visiondiv.registry import SCOPE, resolve, root_registries, scope_node, scopes_registering

# ``type`` values that are function names, not registry entries (mmcv batched_nms).
_NON_REGISTRY_PARENTS = {'nms', 'nms_cfg'}


class ConfigCheckError(ValueError):
    """A config names an unknown type or a file that does not exist, or its heads and data disagree."""


def _resolved(type_name: str, scope: str) -> Optional[type]:
    return next((c for c in (resolve(root, type_name, scope) for root in root_registries()) if c is not None), None)


def _walk_types(node: Any, path: str, scope: str) -> Iterator[Tuple[str, str, str]]:
    """Yield ``(key, type, scope)``; a ``_scope_`` key switches the scope of its subtree, as in mmengine.

    A class whose ``NON_REGISTRY_ARGS`` names some of its arguments (e.g. ``SliceAlbu``'s ``transforms``:
    albumentations configs, built by the class itself) keeps the walk out of them.
    """
    if isinstance(node, dict):
        scope = node.get('_scope_') or scope
        t = node.get('type')
        skip = set()
        if isinstance(t, str) and path.rsplit('.', 1)[-1] not in _NON_REGISTRY_PARENTS:
            yield path, t, scope
            skip = set(getattr(_resolved(t, scope), 'NON_REGISTRY_ARGS', ()))
        for k, v in node.items():
            if k != 'type' and k not in skip:
                yield from _walk_types(v, f'{path}.{k}' if path else str(k), scope)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk_types(v, f'{path}[{i}]', scope)


def _known(type_name: str, scope: str) -> bool:
    return any(resolve(root, type_name, scope) is not None for root in root_registries())


def _suggest(type_name: str, scope: str) -> str:
    if '.' not in type_name:
        owners = sorted({s for root in root_registries() for s in scopes_registering(root, type_name)} - {scope})
        if owners:
            names = ' or '.join(repr(f'{s}.{type_name}') for s in owners)
            return (f' {type_name!r} is registered in {", ".join(owners)}, not under the {scope!r} scope: '
                    f'write {names}.')
    names = set()
    for root in root_registries():
        node = scope_node(root, scope)
        while node is not None:
            names.update(node.module_dict)
            node = node.parent
    close = difflib.get_close_matches(type_name.split('.')[-1], sorted(names), n=3)
    return f' Did you mean {", ".join(close)}?' if close else ''


def _walk_files(node: Any, path: str, data_root: Optional[str]) -> Iterator[Tuple[str, str]]:
    if isinstance(node, dict):
        root = node.get('data_root', data_root)
        if isinstance(root, str) and root and 'data_root' in node:
            yield f'{path}.data_root' if path else 'data_root', root
        ann = node.get('ann_file')
        if isinstance(ann, str) and ann:
            yield (f'{path}.ann_file' if path else 'ann_file'), osp.join(root or '', ann)
        for k, v in node.items():
            if k not in ('ann_file', 'data_root'):
                yield from _walk_files(v, f'{path}.{k}' if path else str(k), root)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk_files(v, f'{path}[{i}]', data_root)


def check_config(cfg: Config, sections: Optional[Iterable[str]] = None, scope: str = SCOPE) -> None:
    """Raise :class:`ConfigCheckError` naming the key of an unknown ``type`` or missing file.

    Args:
        cfg: the loaded config.
        sections: top-level keys whose datasets must exist on disk (e.g.
            ``('train_dataloader', 'val_dataloader')``); types are checked
            everywhere.
        scope: registry scope used to resolve unprefixed names.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    tree = cfg.to_dict() if isinstance(cfg, (Config, ConfigDict)) else cfg
    for key, type_name, node_scope in _walk_types(tree, '', cfg.get('default_scope') or scope):
        if not _known(type_name, node_scope):
            raise ConfigCheckError(f"{source}: '{key}.type' names unknown type {type_name!r} under the "
                                   f"{node_scope!r} scope." + _suggest(type_name, node_scope))
    load_from = cfg.get('load_from')
    if isinstance(load_from, str) and load_from and '://' not in load_from and not osp.isfile(load_from):
        raise ConfigCheckError(f"{source}: 'load_from' file not found: {load_from}")
    for section in sections or ():
        node = cfg.get(section)
        if node is None:
            continue
        for key, file_path in _walk_files(node.to_dict() if hasattr(node, 'to_dict') else node, section, None):
            if not osp.exists(file_path):
                raise ConfigCheckError(f"{source}: '{key}' not found: {file_path}")


#: heads whose ``num_classes`` must equal the number of dataset classes (mmdet one- and two-stage, mmseg);
#: an RPN's single "object" class is not the dataset's
_CLASS_HEADS = ('bbox_head', 'roi_head.bbox_head', 'roi_head.mask_head', 'decode_head', 'auxiliary_head')


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
    """Raise :class:`ConfigCheckError` when a head's ``num_classes`` is not the dataset's number of classes.

    A detector with more outputs than the dataset has classes trains without
    error (the extra classes never get a positive) and one with fewer fails
    deep inside a loss or a metric; both are a config mistake.

    Args:
        model: the built (unwrapped) model: heads are found under ``bbox_head``,
            ``roi_head.bbox_head``/``mask_head``, ``decode_head`` and ``auxiliary_head``.
        metainfo: the built dataset's ``metainfo`` (checked when it has ``classes``).
        dataset_key: where the dataset is configured, e.g. ``'train_dataloader.dataset'``.
        source: the config file, for the message.
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
