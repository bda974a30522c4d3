"""Input handling shared by the rotated-box losses: dtype, empty input, masking, reduction."""
from typing import Optional, Tuple

import torch
from mmdet.models.losses.utils import weight_reduce_loss
from torch import Tensor, nn

#: a target box with a side at or below this is degenerate and gets no loss (mmrotate#301)
MIN_TARGET_SIDE = 1e-6
REDUCTIONS = ('none', 'mean', 'sum')
#: what a box loss is given by a dense head: encoded deltas, decoded boxes, or the deltas plus both
#: decoded boxes (``pred_decode``/``targets_decode`` keywords)
BOX_INPUTS = ('encoded', 'decoded', 'both')


def declared_box_input(loss: nn.Module) -> Optional[str]:
    """The ``box_input`` class attribute of ``loss`` (one of :data:`BOX_INPUTS`), None if it declares none.

    visiondiv's box losses declare it (``GDLoss``: ``'decoded'``, ``KFLoss``:
    ``'both'``), so that heads need not know the loss classes.
    """
    declared = getattr(loss, 'box_input', None)
    if declared is not None and declared not in BOX_INPUTS:
        raise ValueError(f'{type(loss).__name__}.box_input must be one of {BOX_INPUTS}, got {declared!r}')
    return declared


def box_loss_input(loss: nn.Module, reg_decoded_bbox: Optional[bool] = None) -> str:
    """The box input an anchor head gives ``loss``, one of :data:`BOX_INPUTS`.

    What the loss declares (:func:`declared_box_input`); a loss that declares
    nothing (mmdet's) follows mmdet's ``reg_decoded_bbox`` (None: mmdet's
    default, False). An explicit ``reg_decoded_bbox`` that contradicts the
    declaration is a ``ValueError`` naming both: only ``'decoded'`` means True.
    """
    declared = declared_box_input(loss)
    if declared is None:
        return 'decoded' if reg_decoded_bbox else 'encoded'
    if reg_decoded_bbox is not None and reg_decoded_bbox != (declared == 'decoded'):
        raise ValueError(f'reg_decoded_bbox={reg_decoded_bbox} contradicts loss_bbox {type(loss).__name__}, '
                         f"which takes box_input={declared!r}; drop reg_decoded_bbox or set it to "
                         f"{declared == 'decoded'}")
    return declared


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half-precision inputs are computed in fp32; fp32/fp64 stay as they are."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def resolve_reduction(default: str, override: Optional[str]) -> str:
    reduction = override if override else default
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
    return reduction


def per_box_weight(weight: Optional[Tensor], pred: Tensor) -> Optional[Tensor]:
    """mmrotate passes per-coordinate weights (n, 5); the box losses use their mean."""
    if weight is not None and weight.dim() > 1:
        if weight.shape != pred.shape:
            raise ValueError(f'weight shape {tuple(weight.shape)} does not match pred {tuple(pred.shape)}')
        weight = weight.mean(-1)
    return weight


def mask_degenerate_targets(target: Tensor, *others: Tensor) -> Tuple[Tensor, Tensor, Tuple[Tensor, ...]]:
    """Replace zero-size or non-finite target boxes by a unit box.

    Returns the cleaned targets, the validity mask and ``others`` (decoded
    boxes, ...) cleaned the same way, so that masked rows can neither
    produce nor back-propagate NaN.
    """
    valid = (target[..., 2:4] > MIN_TARGET_SIDE).all(-1) & torch.isfinite(target).all(-1)
    if bool(valid.all()):
        return target, valid, others
    unit = target.new_tensor([0.0, 0.0, 1.0, 1.0, 0.0])
    keep = valid[..., None]
    return torch.where(keep, target, unit), valid, tuple(
        torch.where(keep, o, unit) if o is not None else None for o in others)


def reduce_box_loss(loss: Tensor, valid: Tensor, weight: Optional[Tensor], reduction: str,
                    avg_factor: Optional[float], out_dtype: torch.dtype) -> Tensor:
    """Zero masked rows, apply weight/reduction/avg_factor, return in ``out_dtype``.

    Half-precision results saturate at the dtype's largest finite value
    rather than overflowing to inf.
    """
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    if weight is not None:
        weight = weight.to(loss.dtype)
    loss = weight_reduce_loss(loss, weight, reduction, avg_factor)
    if out_dtype != loss.dtype and out_dtype in (torch.float16, torch.bfloat16):
        big = torch.finfo(out_dtype).max
        loss = loss.clamp(-big, big)
    return loss.to(out_dtype)


def empty_or_zero_weight(pred: Tensor, weight: Optional[Tensor], reduction: str) -> Optional[Tensor]:
    """A zero loss that keeps the graph, for empty input or all-zero weights; else None."""
    if pred.numel() == 0:
        zero = pred.sum() * 0
        return pred.new_zeros(pred.shape[:-1]) + zero if reduction == 'none' else zero
    if weight is not None and reduction != 'none' and not bool((weight > 0).any()):
        return (pred * 0).sum()
    return None


def prepare_box_loss(pred: Tensor, weight: Optional[Tensor], default_reduction: str,
                     reduction_override: Optional[str]) -> Tuple[str, Optional[Tensor], Optional[Tensor]]:
    """The shared start of a box loss's forward: (reduction, per-box weight, early zero or None)."""
    reduction = resolve_reduction(default_reduction, reduction_override)
    weight = per_box_weight(weight, pred)
    return reduction, weight, empty_or_zero_weight(pred, weight, reduction)
