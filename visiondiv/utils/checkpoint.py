"""Local checkpoint loading and the checks on what a checkpoint loads into (no resume logic: see
:mod:`visiondiv.engine.checkpoint`).

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine
0.10.7 checkpoints hold numpy arrays and its ``HistoryBuffer`` (the message
hub used by ``--resume``), which need ``getattr`` to unpickle, so they
cannot pass the restricted loader. visiondiv loads local checkpoints as
mmengine did before torch 2.6, i.e. as full pickles: load only checkpoint
files you trust. Importing this module registers that loader with mmengine's
``CheckpointLoader`` for local paths.

mmengine loads a checkpoint with ``strict=False`` and only logs the keys it
could not use, so a checkpoint of another model "loads" and the run goes on
with random weights. :func:`check_checkpoint_fits` refuses that. A checkpoint
also names the classes it was trained on (``meta.dataset_meta.classes``,
written by mmengine's runner); a dataset that lists the same classes in
another order scores every prediction as another class, without an error.
:func:`check_checkpoint_classes` refuses that, or permutes the classifier rows
when the config asks for it (``remap_classes=True``).

:func:`check_checkpoint` runs both checks. It is the one check of every entry
point: ``visiondiv.engine.hooks.CompatibilityCheckHook`` runs it where
mmengine's runner loads ``load_from`` or resumes (``tools/train.py``,
``tools/test.py``), and :func:`load_checkpoint_checked` (load, check, load the
weights into the model) everywhere else: ``visiondiv.apis.init_detector``
(the image demo), ``tools/analysis_tools/benchmark.py``,
``tools/model_converters/publish_model.py`` and ``PretrainedSegmentor``.

A leaf module (torch and mmengine only): models that load pretrained weights use it as the engine does.
"""
import logging
import os.path as osp
import pickle
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

#: fewer model tensors matched (by name and shape) than this fraction: the checkpoint is another model's
MIN_MATCHED_FRACTION = 0.5
#: names shown per kind of mismatch in messages
_SHOWN = 5
#: the top-level config keys that say what to do with a checkpoint trained on other classes
#: (:func:`class_options`): permute its classifier rows to the dataset's order (the same names in
#: another order), or load them as they are (other names: a fine-tune on new classes on purpose)
CLASS_OPTION_KEYS = ('remap_classes', 'ignore_checkpoint_classes')


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into."""


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location=None) -> dict:
    """Load a local checkpoint (full pickle: trusted files only); errors name the file.

    Args:
        filename (str): the checkpoint's path (``~`` is expanded).
        map_location (str | torch.device | Callable, optional): as ``torch.load``'s. Defaults to None.

    Returns:
        dict: the loaded checkpoint.

    Raises:
        FileNotFoundError: naming ``filename`` when it does not exist.
        RuntimeError: naming ``filename`` when it is truncated or not a torch checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    # torch's message (e.g. 'failed finding central directory') does not name the file
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as e:
        raise RuntimeError(f'{filename}: cannot read this checkpoint (truncated or not a torch checkpoint?): '
                           f'{e}') from e


@dataclass
class KeyMatch:
    """How a checkpoint's state dict lines up with a model's (names after mmengine's ``module.`` strip).

    Args:
        total (int): the number of model tensors compared.
        matched (list[str]): names in both, with the same shape. Defaults to an empty list.
        missing (list[str]): model names absent from the checkpoint. Defaults to an empty list.
        unexpected (list[str]): checkpoint names absent from the model. Defaults to an empty list.
        mismatched (list[tuple]): ``(name, checkpoint shape, model shape)`` of names in both with other
            shapes. Defaults to an empty list.
    """

    total: int
    matched: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    #: (name, checkpoint shape, model shape)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    def summary(self) -> str:
        """Counts and a few names of each kind."""
        def few(names):
            return ', '.join(names[:_SHOWN]) + (', ...' if len(names) > _SHOWN else '')
        parts = [f'{len(self.matched)} of the model\'s {self.total} tensors matched by name and shape']
        if self.missing:
            parts.append(f'{len(self.missing)} missing from the checkpoint ({few(self.missing)})')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} unexpected, not in the model ({few(self.unexpected)})')
        if self.mismatched:
            shapes = [f'{k} {tuple(c)} vs {tuple(m)}' for k, c, m in self.mismatched]
            parts.append(f'{len(self.mismatched)} with another shape, checkpoint vs model ({few(shapes)})')
        return '; '.join(parts)


def _state_keys(checkpoint: Mapping) -> Tuple[dict, Dict[str, str]]:
    """The checkpoint's (mutable) state dict and its keys by name without mmengine's ``module.`` prefix."""
    state = checkpoint['state_dict'] if 'state_dict' in checkpoint else checkpoint
    return state, {re.sub(r'^module\.', '', k): k for k in state}


def checkpoint_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The model weights of ``checkpoint`` keyed as mmengine loads them (its ``module.`` prefix stripped).

    Args:
        checkpoint (Mapping): a loaded checkpoint, with or without a ``state_dict`` key.

    Returns:
        dict[str, Tensor]: the weights by name.
    """
    state, keys = _state_keys(checkpoint)
    return {name: state[key] for name, key in keys.items()}


def match_state_dict(model_state: Mapping[str, torch.Tensor], ckpt_state: Mapping[str, object]) -> KeyMatch:
    """Compare a model's ``state_dict()`` with a checkpoint's, by name and shape.

    ``num_batches_tracked`` buffers are left out, as in mmengine's report
    (torch fills them in for checkpoints without them).

    Args:
        model_state (Mapping[str, Tensor]): the model's ``state_dict()``.
        ckpt_state (Mapping[str, object]): the checkpoint's weights (:func:`checkpoint_state_dict`).

    Returns:
        KeyMatch: the matched, missing, unexpected and mismatched names.
    """
    def counted(name):
        return not name.endswith('num_batches_tracked')
    match = KeyMatch(total=sum(counted(k) for k in model_state))
    for name, tensor in model_state.items():
        if not counted(name):
            continue
        if name not in ckpt_state:
            match.missing.append(name)
            continue
        shape = tuple(getattr(ckpt_state[name], 'shape', ()))
        if shape == tuple(tensor.shape):
            match.matched.append(name)
        else:
            match.mismatched.append((name, shape, tuple(tensor.shape)))
    match.unexpected = [k for k in ckpt_state if counted(k) and k not in model_state]
    return match


def _refuse_other_model(match: KeyMatch, filename: str, min_fraction: float) -> None:
    if len(match.matched) < min_fraction * match.total:
        raise CheckpointMismatchError(
            f'{filename}: not a checkpoint of this model: {match.summary()} (at least {min_fraction:.0%} '
            'must match to load it)')


def check_checkpoint_fits(model: nn.Module, checkpoint: Mapping, filename: str, complete: bool = False,
                          min_fraction: float = MIN_MATCHED_FRACTION) -> KeyMatch:
    """Refuse a checkpoint that does not fit ``model``; warn with a summary when it fits in part.

    Fine-tuning (``load_from`` in training) accepts a checkpoint whose tensors
    match at least ``min_fraction`` of the model's by name and shape: e.g. a
    head with another ``num_classes`` (only its last layers differ in shape,
    they keep their initialisation) or another detector's backbone and neck.
    Fewer is a checkpoint of another model (a segmentation UNet into a
    detector matches none) and is refused. Evaluating or resuming
    (``complete=True``) needs every tensor: a model with a part left at its
    random initialisation gives meaningless results.

    Args:
        model (nn.Module): the (unwrapped) model the checkpoint is loaded into.
        checkpoint (Mapping): the loaded checkpoint (with or without a ``state_dict`` key).
        filename (str): the checkpoint's file, for the messages.
        complete (bool): require every model tensor (test, resume). Defaults to False.
        min_fraction (float): the fraction of the model's tensors that must match otherwise.
            Defaults to ``MIN_MATCHED_FRACTION`` (0.5).

    Returns:
        KeyMatch: how the checkpoint's tensors line up with the model's.

    Raises:
        CheckpointMismatchError: naming ``filename`` and summarising the keys.
    """
    return _check_fit(match_state_dict(model.state_dict(), checkpoint_state_dict(checkpoint)), filename, complete,
                      min_fraction)


def _check_fit(match: KeyMatch, filename: str, complete: bool, min_fraction: float) -> KeyMatch:
    """:func:`check_checkpoint_fits` on a computed match."""
    _refuse_other_model(match, filename, min_fraction)
    if complete and (match.missing or match.mismatched):
        raise CheckpointMismatchError(
            f'{filename}: does not cover the whole model, whose other tensors would keep their random '
            f'initialisation: {match.summary()}. Evaluating or resuming needs a checkpoint of this very model; '
            'to fine-tune from it, set load_from in training')
    if match.missing or match.unexpected or match.mismatched:
        print_log(f'{filename}: loaded in part: {match.summary()}', logger='current', level=logging.WARNING)
    return match


def checkpoint_classes(checkpoint: Mapping) -> Optional[Tuple[str, ...]]:
    """The class names a checkpoint was trained on, in the order of its classifier's outputs.

    mmengine's runner writes them to ``meta.dataset_meta.classes`` (the training dataset's
    ``metainfo``); checkpoints of mmdet 2.x / mmrotate 0.x have ``meta.CLASSES``.

    Args:
        checkpoint (Mapping): a loaded checkpoint.

    Returns:
        tuple[str] | None: the names, or None when the checkpoint does not say.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    if not isinstance(meta, Mapping):
        return None
    dataset_meta = meta.get('dataset_meta')
    classes = None
    if isinstance(dataset_meta, Mapping):
        classes = dataset_meta.get('classes', dataset_meta.get('CLASSES'))
    if classes is None:
        classes = meta.get('CLASSES')
    if classes is None:
        return None
    return (str(classes),) if isinstance(classes, str) else tuple(str(c) for c in classes)


def classifier_parameters(model: nn.Module) -> Dict[str, Tuple[int, int]]:
    """The tensors of the heads' classification layers, whose rows are the classes (per prior).

    A head is a module with integer ``num_classes`` and ``cls_out_channels``
    (mmdet's dense heads: ``cls_out_channels`` is ``num_classes``, plus one
    background channel for a softmax classifier); its classification layer is a
    direct child whose name holds ``cls`` (``retina_cls`` of ``RetinaHead``,
    ``conv_cls`` of ``FCOSHead``) and whose own weight and bias have
    ``num_base_priors * cls_out_channels`` rows (one per anchor and class, in
    that order: row ``a * cls_out_channels + c`` is class ``c`` of anchor ``a``;
    one prior for an anchor-free head). The stacked convolutions (``cls_convs``)
    are not direct parameters of a child, so they never match.

    Args:
        model (nn.Module): the (unwrapped) model.

    Returns:
        dict[str, tuple[int, int]]: ``{state-dict name: (num_classes, cls_out_channels)}``; empty for a
        model without such a head (a segmentor, a classifier).
    """
    found = {}
    for prefix, head in model.named_modules():
        num_classes, channels = getattr(head, 'num_classes', None), getattr(head, 'cls_out_channels', None)
        if not isinstance(num_classes, int) or not isinstance(channels, int) or channels < num_classes:
            continue
        priors = getattr(head, 'num_base_priors', 1)
        priors = priors if isinstance(priors, int) and priors > 0 else 1
        for child_name, child in head.named_children():
            if 'cls' not in child_name:
                continue
            for name, param in child.named_parameters(recurse=False):
                if param.dim() >= 1 and param.shape[0] == priors * channels:
                    found['.'.join(filter(None, (prefix, child_name, name)))] = (num_classes, channels)
    return found


def class_options(cfg: Mapping, source: str = '<config>') -> Dict[str, bool]:
    """The config's answers to "the checkpoint was trained on other classes" (:data:`CLASS_OPTION_KEYS`).

    ``remap_classes=True`` (top level of the config): a checkpoint trained on
    the dataset's class names in another order has its classifier rows permuted
    to the dataset's order. ``ignore_checkpoint_classes=True``: a checkpoint
    trained on other names is loaded as it is (a fine-tune on new classes with
    as many classes, or names that differ only in spelling). Both default to
    False: such a checkpoint is refused.

    Args:
        cfg (Mapping): the config (a ``Config`` or a dict).
        source (str): the config file, for the messages. Defaults to '<config>'.

    Returns:
        dict[str, bool]: ``{'remap_classes': ..., 'ignore_checkpoint_classes': ...}``, keyword arguments of
        :func:`check_checkpoint` and :func:`load_checkpoint_checked`.

    Raises:
        TypeError: a key set to something else than True or False.
        ValueError: both keys set to True.
    """
    options = {}
    for key in CLASS_OPTION_KEYS:
        value = cfg.get(key, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise TypeError(f'{source}: {key} must be True or False, got {value!r}')
        options[key] = value
    if all(options.values()):
        raise ValueError(f'{source}: set remap_classes=True (the same class names in another order) or '
                         'ignore_checkpoint_classes=True (other names), not both')
    return options


def _remap_rows(model: nn.Module, checkpoint: Mapping, order: Sequence[int], filename: str) -> List[str]:
    """Permute the checkpoint's classifier rows in place: the model's class ``i`` gets the checkpoint's row
    ``order[i]`` (for every prior; a background channel stays last). Returns the names of the tensors."""
    params = classifier_parameters(model)
    if not params:
        raise CheckpointMismatchError(f'{filename}: remap_classes=True, but {type(model).__name__} has no '
                                      'classification layer whose rows could be permuted')
    model_state = model.state_dict()
    state, keys = _state_keys(checkpoint)
    done = []
    for name, (num_classes, channels) in params.items():
        key = keys.get(name)
        if key is None or tuple(state[key].shape) != tuple(model_state[name].shape):
            continue  # absent or of another shape: check_checkpoint_fits names it
        if num_classes != len(order):
            raise CheckpointMismatchError(f'{filename}: remap_classes=True: the head of {name} predicts '
                                          f'{num_classes} classes, the class lists have {len(order)}')
        per_prior = list(order) + list(range(num_classes, channels))
        rows = [prior * channels + c for prior in range(state[key].shape[0] // channels) for c in per_prior]
        state[key] = state[key].index_select(0, torch.as_tensor(rows, device=state[key].device))
        done.append(name)
    return done


def check_checkpoint_classes(model: nn.Module, checkpoint: Mapping, filename: str,
                             classes: Optional[Sequence[str]], classes_source: str = 'the dataset',
                             remap_classes: bool = False,
                             ignore_checkpoint_classes: bool = False) -> Optional[Tuple[str, ...]]:
    """Refuse a checkpoint trained on other classes than ``classes`` (names or order), or remap it.

    Nothing is checked when the checkpoint does not name its classes
    (:func:`checkpoint_classes`) or ``classes`` is None. Otherwise the names must
    be the same, in the same order, unless

    - ``remap_classes`` and the names are the same set: the checkpoint's
      classifier rows (:func:`classifier_parameters`) are permuted in place to
      the order of ``classes``;
    - ``ignore_checkpoint_classes``: the checkpoint is used as it is (warned);
    - the heads' classifier tensors have another shape in the checkpoint than in
      the model (another number of classes): a fine-tune start, whose classifier
      keeps its initialisation (:func:`check_checkpoint_fits` refuses it where
      the whole model must be covered).

    Args:
        model (nn.Module): the (unwrapped) model the checkpoint is loaded into.
        checkpoint (Mapping): the loaded checkpoint; its state dict is changed in place by a remap.
        filename (str): the checkpoint's file, for the messages.
        classes (Sequence[str], optional): the class names of the data, in the order of its labels.
        classes_source (str): where ``classes`` come from, for the messages. Defaults to 'the dataset'.
        remap_classes (bool): permute the classifier rows of a checkpoint trained on the same names in
            another order. Defaults to False.
        ignore_checkpoint_classes (bool): load a checkpoint trained on other names as it is. Defaults to False.

    Returns:
        tuple[str] | None: the names the model predicts once loaded, in order: ``classes`` when given, else
        the checkpoint's.

    Raises:
        CheckpointMismatchError: naming the file, both class lists and the config key to set.
    """
    trained = checkpoint_classes(checkpoint)
    if classes is None:
        return trained
    wanted = tuple(str(c) for c in classes)
    if trained is None or trained == wanted:
        return wanted
    same_set = len(trained) == len(wanted) == len(set(wanted)) and set(trained) == set(wanted)
    what = (f'{filename}: trained on the classes {trained} (its meta.dataset_meta.classes) but {classes_source} '
            f'has {wanted}')
    if ignore_checkpoint_classes:
        print_log(f'{what}; loaded as it is (ignore_checkpoint_classes=True)', logger='current',
                  level=logging.WARNING)
        return wanted
    if remap_classes and same_set:
        names = _remap_rows(model, checkpoint, [trained.index(c) for c in wanted], filename)
        print_log(f'{what}: rows of {", ".join(names)} permuted to this order (remap_classes=True)',
                  logger='current')
        return wanted
    model_state = model.state_dict()
    state, keys = _state_keys(checkpoint)
    params = classifier_parameters(model)
    other_shape = (any(k not in keys or tuple(state[keys[k]].shape) != tuple(model_state[k].shape) for k in params)
                   if params else len(trained) != len(wanted))
    if other_shape:
        print_log(f'{what}: its classifier has another shape and keeps its initialisation', logger='current')
        return wanted
    if same_set:
        raise CheckpointMismatchError(
            f'{what}: the same names in another order, so every prediction would be scored as another class. '
            'Set remap_classes=True at the top level of the config (e.g. --cfg-options remap_classes=True) to '
            "permute the checkpoint's classifier rows to this order, or list the classes in the checkpoint's order "
            "in the dataset's metainfo")
    cannot = ('remap_classes=True cannot help: it permutes the same names only. ' if remap_classes else '')
    raise CheckpointMismatchError(
        f'{what}: other names. {cannot}Use a checkpoint trained on these classes, or set '
        'ignore_checkpoint_classes=True at the top level of the config (e.g. --cfg-options '
        'ignore_checkpoint_classes=True) to load its classifier as it is (a fine-tune on new classes on purpose, '
        'or names that differ only in spelling)')


def check_checkpoint(model: nn.Module, checkpoint: Mapping, filename: str, complete: bool = False,
                     min_fraction: float = MIN_MATCHED_FRACTION, classes: Optional[Sequence[str]] = None,
                     classes_source: str = 'the dataset', remap_classes: bool = False,
                     ignore_checkpoint_classes: bool = False) -> KeyMatch:
    """The check of every entry point that loads a checkpoint: the model, then the classes, then completeness.

    First a checkpoint of another model is refused (:func:`check_checkpoint_fits`'s
    ``min_fraction`` rule), then its classes are compared with ``classes``
    (:func:`check_checkpoint_classes`, which may permute its classifier rows in
    place), then the whole model must be covered when ``complete``.

    Args:
        model (nn.Module): the (unwrapped) model the checkpoint is loaded into.
        checkpoint (Mapping): the loaded checkpoint (changed in place by a remap).
        filename (str): the checkpoint's file, for the messages.
        complete (bool): require every model tensor (test, inference, resume). Defaults to False.
        min_fraction (float): the fraction of the model's tensors that must match by name and shape.
            Defaults to ``MIN_MATCHED_FRACTION`` (0.5).
        classes (Sequence[str], optional): the data's class names in label order; None: not compared.
            Defaults to None.
        classes_source (str): where ``classes`` come from, for the messages. Defaults to 'the dataset'.
        remap_classes (bool): as :func:`check_checkpoint_classes`. Defaults to False.
        ignore_checkpoint_classes (bool): as :func:`check_checkpoint_classes`. Defaults to False.

    Returns:
        KeyMatch: how the checkpoint's tensors line up with the model's.

    Raises:
        CheckpointMismatchError: naming the file.
    """
    # a remap permutes rows of same-shape tensors only, so the names and shapes matched here stay valid after it
    match = match_state_dict(model.state_dict(), checkpoint_state_dict(checkpoint))
    _refuse_other_model(match, filename, min_fraction)
    check_checkpoint_classes(model, checkpoint, filename, classes, classes_source, remap_classes,
                             ignore_checkpoint_classes)
    return _check_fit(match, filename, complete, min_fraction)


def load_checkpoint_checked(model: nn.Module, filename: str, map_location='cpu', complete: bool = True,
                            min_fraction: float = MIN_MATCHED_FRACTION, classes: Optional[Sequence[str]] = None,
                            classes_source: str = 'the dataset', remap_classes: bool = False,
                            ignore_checkpoint_classes: bool = False) -> dict:
    """Load ``filename`` into ``model`` after :func:`check_checkpoint`: what every entry point outside
    mmengine's runner calls (the runner's loads are checked by ``CompatibilityCheckHook``).

    The file is read by mmengine's ``CheckpointLoader`` (a local path by
    :func:`load_from_local`, which names it; URLs as mmengine does). Only the
    tensors that match the model by name and shape are loaded (with
    ``complete=True``, that is every tensor of the model).

    Args:
        model (nn.Module): the (unwrapped) model; its weights are replaced.
        filename (str): the checkpoint's path or URL.
        map_location (str | torch.device | Callable): as ``torch.load``'s. Defaults to 'cpu'.
        complete (bool): require every model tensor (inference, evaluation). Defaults to True.
        min_fraction (float): as :func:`check_checkpoint`. Defaults to ``MIN_MATCHED_FRACTION`` (0.5).
        classes (Sequence[str], optional): the data's class names in label order; None: not compared.
            Defaults to None.
        classes_source (str): where ``classes`` come from, for the messages. Defaults to 'the dataset'.
        remap_classes (bool): as :func:`check_checkpoint_classes`. Defaults to False.
        ignore_checkpoint_classes (bool): as :func:`check_checkpoint_classes`. Defaults to False.

    Returns:
        dict: the loaded checkpoint (with the remapped rows, if any).

    Raises:
        FileNotFoundError: naming a local ``filename`` that does not exist.
        CheckpointMismatchError: naming the file, when it is not a checkpoint of ``model``, does not cover it
            (``complete``) or was trained on other classes.
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointMismatchError(f'{filename}: not a checkpoint but a {type(checkpoint).__name__}')
    check_checkpoint(model, checkpoint, filename, complete=complete, min_fraction=min_fraction, classes=classes,
                     classes_source=classes_source, remap_classes=remap_classes,
                     ignore_checkpoint_classes=ignore_checkpoint_classes)
    model_state = model.state_dict()
    weights = {k: v for k, v in checkpoint_state_dict(checkpoint).items()
               if k in model_state and tuple(getattr(v, 'shape', ())) == tuple(model_state[k].shape)}
    model.load_state_dict(weights, strict=False)
    return checkpoint
