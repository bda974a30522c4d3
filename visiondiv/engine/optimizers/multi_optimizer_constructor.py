"""One optimizer wrapper per submodule (generator/discriminator, student/teacher...)."""
import copy
from typing import Dict, Optional

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict

from visiondiv.registry import OPTIM_WRAPPER_CONSTRUCTORS

#: the option that lets trainable parameters outside every entry go without an optimizer
ALLOW_UNCOVERED = 'allow_uncovered_params'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build an :class:`~mmengine.optim.OptimWrapperDict` with one optimizer wrapper per submodule.

    mmengine 0.10.7 ships only ``DefaultOptimWrapperConstructor``, which builds
    a single optimizer over the whole model. Here every key of the
    ``optim_wrapper`` config names a submodule of the model (an attribute:
    ``model.generator``) and holds an ordinary optim-wrapper config for it,
    built by its own constructor (``constructor`` in the entry, default
    ``DefaultOptimWrapperConstructor``) on that submodule only::

        optim_wrapper = dict(
            constructor='MultiOptimWrapperConstructor',
            generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),
            discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=4e-4),
                               paramwise_cfg=dict(norm_decay_mult=0.)))

    The result is keyed the same way (``optim_wrapper['generator']``); the
    model's ``train_step`` steps each wrapper itself. Param schedulers can then
    be a dict with the same keys.

    Every trainable parameter (``requires_grad``) of the model must be in one
    of the named submodules, so that a forgotten submodule does not silently
    stay untrained; set ``allow_uncovered_params=True`` in the ``optim_wrapper``
    config to allow it. Frozen parameters need no entry.

    Args:
        optim_wrapper_cfg (dict): submodule name -> optim-wrapper config, plus
            the optional ``allow_uncovered_params`` (bool, default False).
        paramwise_cfg (dict, optional): submodule name -> ``paramwise_cfg``
            for that entry, for configs that keep paramwise settings apart. An
            entry's own ``paramwise_cfg`` takes precedence. Defaults to None.

    Raises:
        TypeError: ``optim_wrapper_cfg`` or one of its entries is not a dict.
        ValueError: no submodule entry, or a ``paramwise_cfg`` key that names no entry.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError(f'optim_wrapper must be a dict of submodule name -> optim wrapper config, '
                            f'got {type(optim_wrapper_cfg).__name__}')
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.allow_uncovered_params = bool(cfg.pop(ALLOW_UNCOVERED, False))
        if not cfg:
            raise ValueError('optim_wrapper: MultiOptimWrapperConstructor needs at least one '
                             'submodule entry, e.g. generator=dict(optimizer=...)')
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(cfg))
        if unknown:
            raise ValueError(f'optim_wrapper.paramwise_cfg: {unknown} name no entry of optim_wrapper '
                             f'(entries: {sorted(cfg)}); MultiOptimWrapperConstructor takes paramwise_cfg '
                             'per entry')
        self.constructors: Dict[str, object] = {}
        for name, entry in cfg.items():
            if not isinstance(entry, dict):
                raise TypeError(f"optim_wrapper.{name} must be an optim wrapper config (a dict) for the "
                                f"submodule '{name}', got {entry!r}; MultiOptimWrapperConstructor takes "
                                'one entry per submodule')
            entry = dict(entry)
            constructor = entry.pop('constructor', 'DefaultOptimWrapperConstructor')
            sub_paramwise = entry.pop('paramwise_cfg', paramwise_cfg.get(name))
            self.constructors[name] = OPTIM_WRAPPER_CONSTRUCTORS.build(
                dict(type=constructor, optim_wrapper_cfg=entry, paramwise_cfg=sub_paramwise))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build the optimizer wrapper of every entry on its submodule.

        Args:
            model: the model, possibly wrapped (DDP: its ``.module`` is used).

        Returns:
            OptimWrapperDict: entry name -> ``OptimWrapper``.

        Raises:
            ValueError: an entry names no submodule of the model, or trainable
                parameters are in no entry (and ``allow_uncovered_params`` is not set).
        """
        if is_model_wrapper(model):
            model = model.module
        wrappers: Dict[str, OptimWrapper] = {}
        covered = set()
        for name, constructor in self.constructors.items():
            submodule = getattr(model, name, None)
            if not isinstance(submodule, nn.Module):
                children = [n for n, _ in model.named_children()]
                raise ValueError(f"optim_wrapper.{name}: {type(model).__name__} has no submodule '{name}' "
                                 f'(its submodules: {children})')
            wrappers[name] = constructor(submodule)
            covered.update(id(p) for p in submodule.parameters())
        uncovered = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in covered]
        if uncovered and not self.allow_uncovered_params:
            shown = ', '.join(uncovered[:10]) + (f' ... ({len(uncovered)} in all)' if len(uncovered) > 10 else '')
            raise ValueError(f'optim_wrapper: trainable parameters of {type(model).__name__} in no entry '
                             f'({sorted(self.constructors)}) would not be optimized: {shown}. Add an entry '
                             f'for their submodule, freeze them, or set {ALLOW_UNCOVERED}=True')
        return OptimWrapperDict(**wrappers)
