"""Checks a config before a runner is built, so errors name the config key at fault.

mmengine's own errors for an unknown ``type`` or a missing file come from
deep inside the build and do not say where in the config the problem is.
:func:`~visiondiv.utils.validation.check_num_classes` checks the built model against the built dataset
(run by ``CompatibilityCheckHook``: the dataset's classes are known once it is built).

The lookups below follow the registry policy written down in :mod:`visiondiv.registry`.
"""
import difflib
import os.path as osp
from typing import Any, Iterable, Iterator, List, Optional, Tuple

import mmengine.registry as mmengine_registry
from mmengine.config import Config, ConfigDict
from mmengine.registry import Registry

from visiondiv.registry import SCOPE
from visiondiv.utils.validation import ConfigCheckError

# ``type`` values that are function names, not registry entries (mmcv batched_nms).
_NON_REGISTRY_PARENTS = {'nms', 'nms_cfg'}


def root_registries() -> List[Registry]:
    """mmengine's root registry of every kind (models, datasets, hooks...).

    Returns:
        list[Registry]: the registries of mmengine without a parent.
    """
    return [v for v in vars(mmengine_registry).values() if isinstance(v, Registry) and v.parent is None]


def scope_node(root: Registry, scope: str) -> Registry:
    """The node of ``root``'s tree that resolves unprefixed names under ``scope``.

    This is the node mmengine's ``Registry.switch_scope_and_registry`` builds
    with; a scope that is not in the tree falls back to the root, as there.

    Args:
        root (Registry): a root registry of mmengine.
        scope (str): a scope name (``'visiondiv'``, ``'mmdet'``...).

    Returns:
        Registry: the node of ``scope``, or ``root``.
    """
    if scope == root.scope:
        return root
    node = root._search_child(scope)
    return root if node is None else node


def resolve(root: Registry, type_name: str, scope: str = SCOPE) -> Optional[type]:
    """The class that ``type=type_name`` builds from ``root``'s tree under ``scope``, or None.

    Follows the registry policy: a prefixed name in its library's node only, an
    unprefixed one in the scope's node and its ancestors, never in a sibling.

    Args:
        root (Registry): a root registry of mmengine.
        type_name (str): the config's ``type``, prefixed (``'mmdet.FocalLoss'``) or not.
        scope (str): the default scope. Defaults to ``'visiondiv'``.

    Returns:
        type, optional: the class, or None when the name does not resolve.
    """
    try:
        return scope_node(root, scope).get(type_name)
    except (KeyError, RuntimeError):  # mmengine raises for a dotted name it cannot import
        return None


def scopes_registering(root: Registry, type_name: str) -> List[str]:
    """Every scope of ``root``'s tree whose own node registers the unprefixed ``type_name``.

    Used to turn "unknown type" into "write 'mmseg.FCNHead'".

    Args:
        root (Registry): a root registry of mmengine.
        type_name (str): a type name; a scope prefix is ignored.

    Returns:
        list[str]: the scopes, sorted.
    """
    name = type_name.rsplit('.', 1)[-1]
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if name in node.module_dict:
            found.append(node.scope)
        stack.extend(node.children.values())
    return sorted(found)


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
        cfg (Config): the loaded config.
        sections (Iterable[str], optional): top-level keys whose datasets must exist on disk (e.g.
            ``('train_dataloader', 'val_dataloader')``); types are checked everywhere. Defaults to None
            (no file is checked).
        scope (str): registry scope used to resolve unprefixed names when the config sets no
            ``default_scope``. Defaults to ``'visiondiv'``.

    Raises:
        ConfigCheckError: naming the config file and the key.
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
