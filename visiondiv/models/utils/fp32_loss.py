"""Head losses in fp32 under mixed precision (what mmrotate 0.x did with ``@force_fp32``).

mmdet 3.x has no such guard: under ``--amp`` a head's losses receive fp16 logits and
deltas, and mmdet's CUDA ``sigmoid_focal_loss`` overflows in half precision (``loss_cls``
turns NaN within a few epochs). Every visiondiv head derives from
:class:`FP32LossMixin`, so its ``loss_by_feat`` (the one entry point of mmdet's
``loss`` and ``loss_and_predict``) runs with autocast off on fp32 copies of its inputs,
whatever the subclass overrides.
"""
import contextlib
import functools
from typing import Any, Callable

import torch

_AUTOCAST_DEVICES = ('cpu', 'cuda')


def to_fp32(obj: Any) -> Any:
    """Cast the floating tensors in ``obj`` (nested lists, tuples, dicts) to fp32; leave the rest.

    Args:
        obj (Any): A tensor, or lists, tuples (namedtuples included) and dicts nesting them, or anything else.

    Returns:
        Any: ``obj`` with its non-fp32 floating tensors replaced by fp32 copies, containers rebuilt with their
        own types; fp32 and non-floating tensors and other objects are returned as they are.
    """
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() and obj.dtype != torch.float32 else obj
    if isinstance(obj, (list, tuple)):
        cast = [to_fp32(o) for o in obj]
        return type(obj)(*cast) if hasattr(obj, '_fields') else type(obj)(cast)
    if isinstance(obj, dict):
        return type(obj)((k, to_fp32(v)) for k, v in obj.items())
    return obj


@contextlib.contextmanager
def autocast_disabled():
    """Turn autocast off on every device where it is on (a no-op outside autocast)."""
    with contextlib.ExitStack() as stack:
        for device in _AUTOCAST_DEVICES:
            if torch.is_autocast_enabled(device):
                stack.enter_context(torch.autocast(device_type=device, enabled=False))
        yield


def fp32_loss(fn: Callable) -> Callable:
    """Decorate a loss method: it runs with autocast off, on fp32 copies of its tensor arguments.

    Args:
        fn (Callable): The function or method to wrap; one already wrapped (``fn.fp32_loss`` true) is returned
            as it is.

    Returns:
        Callable: The wrapper (``functools.wraps(fn)``, with ``fp32_loss = True``): :func:`to_fp32` on every
        positional and keyword argument, then ``fn`` under :func:`autocast_disabled`.
    """
    if getattr(fn, 'fp32_loss', False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with autocast_disabled():
            return fn(*to_fp32(args), **to_fp32(kwargs))

    wrapper.fp32_loss = True
    return wrapper


class FP32LossMixin:
    """Base of every visiondiv dense head: its losses run in fp32 under autocast.

    Put it first among the bases (``class MyHead(FP32LossMixin, RetinaHead)``). A subclass
    that overrides a method named in ``fp32_loss_methods`` gets it wrapped by
    :func:`fp32_loss` when the class is created, so a future head cannot skip the guard.
    """

    fp32_loss_methods = ('loss_by_feat',)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.fp32_loss_methods:
            if name in cls.__dict__:
                setattr(cls, name, fp32_loss(cls.__dict__[name]))

    @fp32_loss
    def loss_by_feat(self, *args, **kwargs):
        """The parent head's ``loss_by_feat`` in fp32 (see the module docstring)."""
        return super().loss_by_feat(*args, **kwargs)
