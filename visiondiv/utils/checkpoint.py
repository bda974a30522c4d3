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
with random weights. :func:`check_checkpoint_fits` (run by
``visiondiv.engine.hooks.CompatibilityCheckHook``) refuses that.

A leaf module (torch and mmengine only): models that load pretrained weights use it as the engine does.
"""
import logging
import os.path as osp
import pickle
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

#: fewer model tensors matched (by name and shape) than this fraction: the checkpoint is another model's
MIN_MATCHED_FRACTION = 0.5
#: names shown per kind of mismatch in messages
_SHOWN = 5


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


def checkpoint_state_dict(checkpoint: Mapping) -> Dict[str, torch.Tensor]:
    """The model weights of ``checkpoint`` keyed as mmengine loads them (its ``module.`` prefix stripped).

    Args:
        checkpoint (Mapping): a loaded checkpoint, with or without a ``state_dict`` key.

    Returns:
        dict[str, Tensor]: the weights by name.
    """
    state = checkpoint['state_dict'] if 'state_dict' in checkpoint else checkpoint
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


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
    match = match_state_dict(model.state_dict(), checkpoint_state_dict(checkpoint))
    if len(match.matched) < min_fraction * match.total:
        raise CheckpointMismatchError(
            f'{filename}: not a checkpoint of this model: {match.summary()} (at least {min_fraction:.0%} '
            'must match to load it)')
    if complete and (match.missing or match.mismatched):
        raise CheckpointMismatchError(
            f'{filename}: does not cover the whole model, whose other tensors would keep their random '
            f'initialisation: {match.summary()}. Evaluating or resuming needs a checkpoint of this very model; '
            'to fine-tune from it, set load_from in training')
    if match.missing or match.unexpected or match.mismatched:
        print_log(f'{filename}: loaded in part: {match.summary()}', logger='current', level=logging.WARNING)
    return match
