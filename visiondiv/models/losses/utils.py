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
#: mmrotate's ``loss_bbox_type`` of a head and the box inputs (:data:`BOX_INPUTS`) each admits
LOSS_BBOX_TYPES = {'normal': ('encoded', 'decoded'), 'kfiou': ('both',)}


def declared_box_input(loss: nn.Module) -> Optional[str]:
    """The ``box_input`` class attribute of ``loss`` (one of :data:`BOX_INPUTS`), None if it declares none.

    visiondiv's box losses declare it (``GDLoss``: ``'decoded'``, ``KFLoss``:
    ``'both'``), so that heads need not know the loss classes.

    Args:
        loss (nn.Module): a box loss (an instance; the attribute is read with ``getattr``).

    Returns:
        str, optional: ``'encoded'``, ``'decoded'`` or ``'both'``; None for a loss without the attribute
        (mmdet's) or with it set to None.

    Raises:
        ValueError: if the declared value is not one of :data:`BOX_INPUTS`.
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

    Args:
        loss (nn.Module): the head's ``loss_bbox``.
        reg_decoded_bbox (bool, optional): the head's ``reg_decoded_bbox``; None when the config does not set
            it. Defaults to None.

    Returns:
        str: ``'encoded'``, ``'decoded'`` or ``'both'``.

    Raises:
        ValueError: if ``reg_decoded_bbox`` is given and contradicts the declaration, or the declaration is
            invalid (:func:`declared_box_input`).
    """
    declared = declared_box_input(loss)
    if declared is None:
        return 'decoded' if reg_decoded_bbox else 'encoded'
    if reg_decoded_bbox is not None and reg_decoded_bbox != (declared == 'decoded'):
        raise ValueError(f'reg_decoded_bbox={reg_decoded_bbox} contradicts loss_bbox {type(loss).__name__}, '
                         f"which takes box_input={declared!r}; drop reg_decoded_bbox or set it to "
                         f"{declared == 'decoded'}")
    return declared


def resolve_loss_bbox_type(loss: nn.Module, loss_bbox_type: Optional[str] = None,
                           reg_decoded_bbox: Optional[bool] = None) -> Tuple[str, str]:
    """A head's box loss input (:func:`box_loss_input`) and mmrotate's ``loss_bbox_type``, checked together.

    ``loss_bbox_type`` None is derived from the input (``'kfiou'`` for ``'both'``, else ``'normal'``); a
    value that is not in :data:`LOSS_BBOX_TYPES` or contradicts the loss is a ``ValueError`` naming it.

    Args:
        loss (nn.Module): the head's ``loss_bbox``.
        loss_bbox_type (str, optional): ``'normal'`` or ``'kfiou'``; None when the config does not set it.
            Defaults to None.
        reg_decoded_bbox (bool, optional): the head's ``reg_decoded_bbox``; None when the config does not set
            it. Defaults to None.

    Returns:
        tuple[str, str]: the box input (one of :data:`BOX_INPUTS`) and the ``loss_bbox_type``.

    Raises:
        ValueError: if ``loss_bbox_type`` is unknown or contradicts ``loss``, or ``reg_decoded_bbox``
            contradicts it (:func:`box_loss_input`).
    """
    box_input = box_loss_input(loss, reg_decoded_bbox)
    if loss_bbox_type is None:
        loss_bbox_type = 'kfiou' if box_input == 'both' else 'normal'
    if loss_bbox_type not in LOSS_BBOX_TYPES:
        raise ValueError(f"loss_bbox_type must be 'normal' or 'kfiou', got {loss_bbox_type!r}")
    if box_input not in LOSS_BBOX_TYPES[loss_bbox_type]:
        raise ValueError(f'loss_bbox_type={loss_bbox_type!r} contradicts loss_bbox {type(loss).__name__}, '
                         f'which takes box_input={box_input!r}; drop loss_bbox_type')
    return box_input, loss_bbox_type


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half-precision inputs are computed in fp32; fp32/fp64 stay as they are.

    Args:
        dtype (torch.dtype): the dtype of the input.

    Returns:
        torch.dtype: ``torch.float32`` for ``float16``/``bfloat16``, else ``dtype`` itself.
    """
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def resolve_reduction(default: str, override: Optional[str]) -> str:
    """The reduction of one call: ``override`` when it is set, else ``default``.

    Args:
        default (str): the loss's own ``reduction``.
        override (str, optional): the call's ``reduction_override``; None (or '') keeps ``default``.

    Returns:
        str: ``'none'``, ``'mean'`` or ``'sum'``.

    Raises:
        ValueError: if the chosen reduction is not one of :data:`REDUCTIONS`.
    """
    reduction = override if override else default
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
    return reduction


def per_box_weight(weight: Optional[Tensor], pred: Tensor) -> Optional[Tensor]:
    """mmrotate passes per-coordinate weights (n, 5); the box losses use their mean.

    Args:
        weight (Tensor, optional): per-box weights (n,) (returned as they are), per-coordinate weights of
            ``pred``'s shape, or None.
        pred (Tensor): the predictions (n, 5), the shape a weight of more than one dimension must have.

    Returns:
        Tensor, optional: (n,) weights (the mean over the last dim of a per-coordinate weight), or None.

    Raises:
        ValueError: if a weight of more than one dimension does not have ``pred``'s shape.
    """
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

    A target is degenerate when its width or height is <= :data:`MIN_TARGET_SIDE` (1e-6, mmrotate#301) or
    any of its values is not finite; its row (and the same row of each of ``others``) becomes the unit box
    (0, 0, 1, 1, 0). Only ``target`` decides validity.

    Args:
        target (Tensor): target boxes (..., 5) (cx, cy, w, h, angle).
        *others (Tensor): more box tensors of ``target``'s shape cleaned on the same rows (None entries
            stay None).

    Returns:
        tuple[Tensor, Tensor, tuple[Tensor, ...]]: the cleaned targets, the validity mask (...) (bool) and
        the cleaned ``others``; the inputs themselves when every target is valid.
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

    Weighting and reduction are mmdet's ``weight_reduce_loss``: the zeroed rows still count in a ``'mean'``
    without ``avg_factor``.

    Args:
        loss (Tensor): per-box losses (n,), in the compute dtype.
        valid (Tensor): (n,) bool; the loss of rows where it is False is replaced by 0.
        weight (Tensor, optional): per-box weights (n,), cast to ``loss``'s dtype; None for no weighting.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): with ``'mean'``, the sum is divided by it instead of n (mmdet raises
            ``ValueError`` for it with ``'sum'``); None for the plain reduction.
        out_dtype (torch.dtype): the dtype of the result (the input's).

    Returns:
        Tensor: the reduced loss (a scalar, or (n,) for ``'none'``) in ``out_dtype``.
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
    """A zero loss that keeps the graph, for empty input or all-zero weights; else None.

    Args:
        pred (Tensor): the predictions (n, 5); the zero is computed from them, so it keeps their graph.
        weight (Tensor, optional): per-box weights (n,); "all-zero" means none is > 0. Only checked when
            ``reduction`` is not ``'none'``.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
        Tensor, optional: for empty ``pred`` zeros of shape ``pred.shape[:-1]`` with ``'none'``, else a
        zero scalar; a zero scalar when no weight is > 0 (reduction not ``'none'``); otherwise None.
    """
    if pred.numel() == 0:
        zero = pred.sum() * 0
        return pred.new_zeros(pred.shape[:-1]) + zero if reduction == 'none' else zero
    if weight is not None and reduction != 'none' and not bool((weight > 0).any()):
        return (pred * 0).sum()
    return None


def prepare_box_loss(pred: Tensor, weight: Optional[Tensor], default_reduction: str,
                     reduction_override: Optional[str]) -> Tuple[str, Optional[Tensor], Optional[Tensor]]:
    """The shared start of a box loss's forward: (reduction, per-box weight, early zero or None).

    Args:
        pred (Tensor): the predictions (n, 5).
        weight (Tensor, optional): per-box (n,) or per-coordinate (n, 5) weights, or None.
        default_reduction (str): the loss's own ``reduction``.
        reduction_override (str, optional): the call's ``reduction_override``; None keeps the default.

    Returns:
        tuple[str, Tensor, Tensor]: the reduction (:func:`resolve_reduction`), the per-box weight or None
        (:func:`per_box_weight`) and the early zero loss or None (:func:`empty_or_zero_weight`).

    Raises:
        ValueError: for an unknown reduction or a per-coordinate weight not shaped like ``pred``.
    """
    reduction = resolve_reduction(default_reduction, reduction_override)
    weight = per_box_weight(weight, pred)
    return reduction, weight, empty_or_zero_weight(pred, weight, reduction)
