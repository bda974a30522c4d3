"""Checks a config before a runner is built, so errors name the config key at fault.

mmengine's own errors for an unknown ``type`` or a missing file come from
deep inside the build and do not say where in the config the problem is.
:func:`~visiondiv.utils.validation.check_num_classes` checks the built model against the built dataset
(run by ``CompatibilityCheckHook``: the dataset's classes are known once it is built).

The lookups below follow the registry policy written down in :mod:`visiondiv.registry`.
"""
import ast
import difflib
import functools
import inspect
import os.path as osp
import textwrap
from typing import Any, FrozenSet, Iterable, Iterator, List, Optional, Tuple

import mmengine.registry as mmengine_registry
from mmengine.config import Config, ConfigDict
from mmengine.registry import Registry

from visiondiv.datasets import DOTADataset
from visiondiv.registry import SCOPE
from visiondiv.utils.validation import ConfigCheckError

# ``type`` values that are function names, not registry entries (mmcv batched_nms), or mmcv op names that mmdet's
# RoI extractors look up in ``mmcv.ops`` (``roi_layer``, checked by :func:`_check_two_stage_boxes`).
_NON_REGISTRY_PARENTS = {'nms', 'nms_cfg', 'roi_layer'}

# Keys that the builder of a root registry (by its name) takes out of a config before calling the class:
# mmcv's build_norm_layer pops requires_grad; BaseModule's initialisation reads an initializer's override
# and the override's name; mmengine's scheduler builder pops convert_to_iter_based; its optimizer wrapper
# builder pops constructor and paramwise_cfg; Runner.register_hook reads a hook's priority.
_BUILDER_KEYS = {
    'model': {'requires_grad'},
    'weight initializer': {'override', 'name'},
    'parameter scheduler': {'convert_to_iter_based'},
    'optim_wrapper': {'constructor', 'paramwise_cfg'},
    'hook': {'priority'},
}


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


def _resolved_in(type_name: str, scope: str) -> Tuple[Optional[Registry], Optional[type]]:
    """(root registry, class) of the first root whose tree resolves ``type_name``, or (None, None)."""
    for root in root_registries():
        found = resolve(root, type_name, scope)
        if found is not None:
            return root, found
    return None, None


def _resolved(type_name: str, scope: str) -> Optional[type]:
    return _resolved_in(type_name, scope)[1]


def _walk_types(node: Any, path: str, scope: str) -> Iterator[Tuple[str, str, str, dict]]:
    """Yield ``(key, type, scope, node)``; a ``_scope_`` key switches the scope of its subtree, as in mmengine.

    A class whose ``NON_REGISTRY_ARGS`` names some of its arguments (e.g. ``SliceAlbu``'s ``transforms``:
    albumentations configs, built by the class itself) keeps the walk out of them.
    """
    if isinstance(node, dict):
        scope = node.get('_scope_') or scope
        t = node.get('type')
        skip = set()
        if isinstance(t, str) and path.rsplit('.', 1)[-1] not in _NON_REGISTRY_PARENTS:
            yield path, t, scope, node
            skip = set(getattr(_resolved(t, scope), 'NON_REGISTRY_ARGS', ()))
        for k, v in node.items():
            if k != 'type' and k not in skip:
                yield from _walk_types(v, f'{path}.{k}' if path else str(k), scope)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk_types(v, f'{path}[{i}]', scope)


def _forwards_kwargs_to_base(init: Any, kwargs_name: str) -> bool:
    """Whether ``init`` uses ``**kwargs_name`` only to call a base ``__init__`` (``super().__init__(**kw)``).

    Any other use (``kwargs.pop('x')``, ``Other(**kwargs)``, storing it) means the class itself may accept
    keys no signature names; so does source that cannot be read.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return False
    func = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if func is None:
        return False
    forwarded, used = 0, 0
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and node.id == kwargs_name:
            used += 1
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == '__init__':
            forwarded += sum(1 for kw in node.keywords
                             if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == kwargs_name)
    return forwarded > 0 and forwarded == used


@functools.lru_cache(maxsize=None)
def accepted_arguments(cls: type) -> Optional[FrozenSet[str]]:
    """The keyword arguments that building ``cls`` from a config accepts, or None when they are open-ended.

    The names of ``cls.__init__``; when it takes ``**kwargs`` and only passes them on to
    ``super().__init__``, the names of the next ``__init__`` in the method resolution order are added, and
    so on until an ``__init__`` without ``**kwargs``. An ``__init__`` that uses its ``**kwargs`` in another
    way, or ``**kwargs`` that reach ``object.__init__``, make the set open-ended (None): nothing can be said.

    Args:
        cls (type): a class registered in a registry (anything else gives None).

    Returns:
        frozenset[str], optional: the accepted names, or None.
    """
    if not isinstance(cls, type):
        return None
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if klass is object:
            return None
        try:
            params = list(inspect.signature(init).parameters.values())[1:]   # without self
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        var_kw = next((p.name for p in params if p.kind == p.VAR_KEYWORD), None)
        if var_kw is None:
            return frozenset(names)
        if not _forwards_kwargs_to_base(init, var_kw):
            return None
    return None


def _check_arguments(source: str, key: str, type_name: str, scope: str, node: dict) -> None:
    """Raise :class:`ConfigCheckError` for a key of ``node`` that its class's ``__init__`` does not take."""
    root, cls = _resolved_in(type_name, scope)
    accepted = accepted_arguments(cls) if cls is not None else None
    if accepted is None:
        return
    builder = _BUILDER_KEYS.get(root.name, set())
    for arg in node:
        if arg in ('type', '_scope_') or arg in builder or arg in accepted:
            continue
        where = f'{key}.{arg}' if key else arg
        close = difflib.get_close_matches(arg, sorted(accepted), n=3, cutoff=0.6)
        hint = (f" Did you mean {' or '.join(repr(f'{key}.{c}' if key else c) for c in close)}?" if close
                else f" {cls.__name__} takes: {', '.join(sorted(accepted))}.")
        raise ConfigCheckError(f"{source}: '{where}' is not an argument of {cls.__name__} "
                               f'({cls.__module__}).{hint}')


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


def _metrics_of(evaluator: Any, key: str) -> Iterator[Tuple[str, dict]]:
    """``(key, metric config)`` of an evaluator config: one metric, a list of them, or ``metrics=...``."""
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        yield from _metrics_of(evaluator['metrics'], f'{key}.metrics')
    elif isinstance(evaluator, dict):
        yield key, evaluator
    elif isinstance(evaluator, (list, tuple)):
        for i, metric in enumerate(evaluator):
            if isinstance(metric, dict):
                yield f'{key}[{i}]', metric


def _check_ground_truth(cfg: Any, split: str, source: str, scope: str) -> None:
    """Refuse a ``<split>_evaluator`` that scores a DOTA-format dataset read without labels (``ann_file=''``).

    Such a dataset lists the images only (test-dev); a metric that evaluates them has no ground truth
    and reports mAP 0.000. A metric that takes ``format_only`` and has it set writes files instead.
    """
    loader, evaluator = cfg.get(f'{split}_dataloader'), cfg.get(f'{split}_evaluator')
    dataset = loader.get('dataset') if isinstance(loader, dict) else None
    if not isinstance(dataset, dict) or not evaluator or dataset.get('ann_file', '') != '':
        return
    dataset_cls = _resolved(dataset.get('type', ''), dataset.get('_scope_') or scope)
    if not (isinstance(dataset_cls, type) and issubclass(dataset_cls, DOTADataset)):
        return
    for key, metric in _metrics_of(evaluator, f'{split}_evaluator'):
        metric_cls = _resolved(metric.get('type', ''), metric.get('_scope_') or scope)
        takes_format_only = 'format_only' in (accepted_arguments(metric_cls) or ())
        if takes_format_only and not metric.get('format_only', False):
            raise ConfigCheckError(
                f"{source}: {split}_dataloader.dataset.ann_file is '' ({dataset_cls.__name__} then lists the "
                f"images without labels, as for DOTA test-dev), but {key} ({metric['type']}) evaluates them: "
                f'with no ground truth it would report mAP 0.000. To evaluate, set '
                f'{split}_dataloader.dataset.ann_file to the folder of label txt files; to predict for a '
                f'submission, set {key}.format_only=True with {key}.outfile_prefix=DIR, which writes the DOTA '
                f'submission files (Task1_<class>.txt and Task1.zip) into DIR.')


def _box_type_of(cls: Optional[type], attr: str) -> str:
    """The box type a class declares in ``attr`` (``'rbox'``...); ``'hbox'`` for mmdet's and undeclared ones."""
    return getattr(cls, attr, None) or 'hbox'


def _extractors(roi_head: dict, key: str) -> Iterator[Tuple[str, dict]]:
    """``(key, config)`` of the bbox RoI extractor(s) of a RoI head config (one, or one per stage)."""
    ext = roi_head.get('bbox_roi_extractor')
    if isinstance(ext, dict):
        yield f'{key}.bbox_roi_extractor', ext
    elif isinstance(ext, (list, tuple)):
        for i, e in enumerate(ext):
            if isinstance(e, dict):
                yield f'{key}.bbox_roi_extractor[{i}]', e


def _check_two_stage_boxes(typed: List[Tuple[str, str, str, dict]], source: str) -> None:
    """Refuse a two-stage detector whose RoI extractor pools a box type its RPN does not propose.

    The box types are declared by the classes (the extension point): an RPN head's ``proposal_box_type``
    (:class:`~visiondiv.models.dense_heads.OrientedRPNHead`: ``'rbox'``), an extractor's ``roi_box_type``
    (:class:`~visiondiv.models.roi_heads.RotatedSingleRoIExtractor`: ``'rbox'``); a class that declares
    nothing (mmdet's ``RPNHead``, ``SingleRoIExtractor``) means horizontal boxes. The extractor's
    ``roi_layer`` must be an mmcv op (``mmcv.ops``) of the same kind: a rotated op
    (:data:`~visiondiv.models.roi_heads.ROTATED_ROI_LAYERS`) for rotated RoIs, any other for horizontal ones.
    """
    from mmcv import ops

    from visiondiv.models.roi_heads import ROTATED_ROI_LAYERS
    for key, _, scope, node in typed:
        rpn, roi_head = node.get('rpn_head'), node.get('roi_head')
        if not isinstance(roi_head, dict):
            continue
        for ext_key, ext in _extractors(roi_head, f'{key}.roi_head' if key else 'roi_head'):
            ext_cls = _resolved(ext.get('type', ''), ext.get('_scope_') or roi_head.get('_scope_') or scope)
            wants = _box_type_of(ext_cls, 'roi_box_type')
            layer = ext.get('roi_layer')
            layer_type = layer.get('type') if isinstance(layer, dict) else None
            if isinstance(layer_type, str):
                if not hasattr(ops, layer_type):
                    raise ConfigCheckError(f"{source}: '{ext_key}.roi_layer.type' names {layer_type!r}, which is not "
                                           f'an op of mmcv.ops (e.g. RoIAlign, RoIAlignRotated).')
                pools = 'rbox' if layer_type in ROTATED_ROI_LAYERS else 'hbox'
                if pools != wants:
                    raise ConfigCheckError(
                        f"{source}: '{ext_key}.roi_layer' is {layer_type} (it pools {pools}es) but {ext['type']} "
                        f"extracts {wants}es: use {' or '.join(ROTATED_ROI_LAYERS) if wants == 'rbox' else 'RoIAlign'}")
            if isinstance(rpn, dict) and isinstance(rpn.get('type'), str):
                rpn_cls = _resolved(rpn['type'], rpn.get('_scope_') or scope)
                proposes = _box_type_of(rpn_cls, 'proposal_box_type')
                if proposes != wants:
                    fix = ("an RPN proposing rotated boxes (type='OrientedRPNHead' with a MidpointOffsetCoder)"
                           if wants == 'rbox' else "type='RotatedSingleRoIExtractor' with roi_layer "
                           "type='RoIAlignRotated'")
                    raise ConfigCheckError(
                        f"{source}: '{ext_key}' ({ext['type']}) pools {wants}es but "
                        f"'{key + '.' if key else ''}rpn_head' ({rpn['type']}) proposes {proposes}es: use {fix}.")


def check_config(cfg: Config, sections: Optional[Iterable[str]] = None, scope: str = SCOPE,
                 evaluated: Optional[Iterable[str]] = None) -> None:
    """Raise :class:`ConfigCheckError` naming the config key at fault, before anything is built.

    Checked, in this order: every ``type`` resolves under the config's scope; every other key of a
    ``type`` node is an argument of that class (its ``__init__``, and its bases' ``__init__`` where it
    passes ``**kwargs`` on; see :func:`accepted_arguments`), with the closest valid name suggested; a
    two-stage detector's RoI extractor and ``roi_layer`` pool the box type its RPN proposes
    (:func:`_check_two_stage_boxes`);
    ``load_from`` and a distillation model's ``teacher_ckpt`` exist; the datasets of ``sections`` exist on
    disk; an evaluated DOTA-format dataset
    has labels (``ann_file`` set) unless its metric only writes submission files (``format_only=True``).

    Args:
        cfg (Config): the loaded config.
        sections (Iterable[str], optional): top-level keys whose datasets must exist on disk (e.g.
            ``('train_dataloader', 'val_dataloader')``); types are checked everywhere. Defaults to None
            (no file is checked).
        scope (str): registry scope used to resolve unprefixed names when the config sets no
            ``default_scope``. Defaults to ``'visiondiv'``.
        evaluated (Iterable[str], optional): the splits (``'val'``, ``'test'``) whose dataloader the tool
            runs through the ``<split>_evaluator``. Defaults to None (the splits of the
            ``val_dataloader`` / ``test_dataloader`` named in ``sections``).

    Raises:
        ConfigCheckError: naming the config file and the key.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    tree = cfg.to_dict() if isinstance(cfg, (Config, ConfigDict)) else cfg
    root_scope = cfg.get('default_scope') or scope
    typed = list(_walk_types(tree, '', root_scope))
    for key, type_name, node_scope, _ in typed:
        if not _known(type_name, node_scope):
            raise ConfigCheckError(f"{source}: '{key}.type' names unknown type {type_name!r} under the "
                                   f"{node_scope!r} scope." + _suggest(type_name, node_scope))
    for key, type_name, node_scope, node in typed:
        _check_arguments(source, key, type_name, node_scope, node)
    _check_two_stage_boxes(typed, source)
    load_from = cfg.get('load_from')
    if isinstance(load_from, str) and load_from and '://' not in load_from and not osp.isfile(load_from):
        raise ConfigCheckError(f"{source}: 'load_from' file not found: {load_from}")
    model = tree.get('model') if isinstance(tree, dict) else None
    teacher_ckpt = model.get('teacher_ckpt') if isinstance(model, dict) else None
    if isinstance(teacher_ckpt, str) and teacher_ckpt and not osp.isfile(osp.expanduser(teacher_ckpt)):
        # a distillation run must not start from a random teacher: the user supplies the teacher's weights
        raise ConfigCheckError(f"{source}: 'model.teacher_ckpt' file not found: {teacher_ckpt} (the teacher's "
                               'trained weights; train the teacher config first or supply the checkpoint)')
    for section in sections or ():
        node = cfg.get(section)
        if node is None:
            continue
        for key, file_path in _walk_files(node.to_dict() if hasattr(node, 'to_dict') else node, section, None):
            if not osp.exists(file_path):
                raise ConfigCheckError(f"{source}: '{key}' not found: {file_path}")
    if evaluated is None:
        evaluated = [split for split in ('val', 'test') if f'{split}_dataloader' in (sections or ())]
    for split in evaluated:
        _check_ground_truth(tree, split, source, root_scope)
