"""The template of every rotated-box loss: one ``forward`` around one method with the maths.

``forward`` does what every box loss must do the same way: resolve the reduction, average
per-coordinate weights, return a graph-keeping zero for empty input or all-zero weights, compute
half-precision inputs in fp32, replace degenerate targets (a side <= 1e-6 or a non-finite value,
mmrotate#301) by a unit box and give them zero loss, then weight, reduce and cast back. A subclass
implements :meth:`BaseBoxLoss.loss_per_box` and declares what it needs in class attributes.
"""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional

import torch
from torch import Tensor, nn

from .utils import compute_dtype, mask_degenerate_targets, prepare_box_loss, reduce_box_loss, resolve_reduction

#: the target-side inputs that degenerate-target masking cleans together
_TARGET_SIDE = ('target', 'targets_decode')


class BaseBoxLoss(nn.Module, metaclass=ABCMeta):
    """Base class of the rotated-box losses (``GDLoss``, ``GDLoss_v1``, ``KFLoss``, ``RotatedIoULoss``).

    Class attributes a subclass sets:

    * ``box_input``: what the dense heads pass (``'decoded'`` boxes, ``'encoded'`` deltas, or ``'both'``:
      deltas plus ``pred_decode``/``targets_decode`` boxes), read by
      :func:`~visiondiv.models.losses.utils.declared_box_input`;
    * ``degenerate_target``: the input whose boxes decide which targets are degenerate (``'target'``,
      ``'targets_decode'``), or None for no masking;
    * ``weight_as_mask``: mmrotate's v1 losses, which drop samples of weight <= 0 before computing and
      otherwise ignore the weight's values and ``avg_factor``.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
    """

    box_input: str = 'decoded'
    degenerate_target: Optional[str] = 'target'
    weight_as_mask: bool = False

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        resolve_reduction(reduction, None)
        self.reduction, self.loss_weight = reduction, loss_weight

    @abstractmethod
    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        """The loss of each box pair, (n,), before weighting and reduction.

        Args:
            pred (Tensor): predictions (n, 5), in the compute dtype (fp32 for half-precision input).
            target (Tensor): targets (n, 5), degenerate ones replaced by a unit box.
            pred_decode (Tensor, optional): decoded predicted boxes, for ``box_input='both'``.
                Defaults to None.
            targets_decode (Tensor, optional): decoded target boxes, for ``box_input='both'``.
                Defaults to None.

        Returns:
            Tensor: (n,) losses.
        """

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                pred_decode: Optional[Tensor] = None, targets_decode: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Weighted, reduced loss between ``pred`` and ``target``.

        Args:
            pred (Tensor): predicted boxes or deltas (n, 5), as ``box_input`` says.
            target (Tensor): target boxes or deltas (n, 5).
            weight (Tensor, optional): (n,) or per coordinate (n, 5) (their mean is used). Defaults to None.
            avg_factor (float, optional): the divisor of ``'mean'`` reduction. Defaults to None.
            reduction_override (str, optional): overrides ``reduction``. Defaults to None.
            pred_decode (Tensor, optional): decoded predicted boxes (``box_input='both'``). Defaults to None.
            targets_decode (Tensor, optional): decoded target boxes (``box_input='both'``). Defaults to None.
            **kwargs: other keywords of mmdet's heads, ignored.

        Returns:
            Tensor: the loss, in ``pred``'s dtype.
        """
        reduction, weight, zero = prepare_box_loss(pred, weight, self.reduction, reduction_override)
        if zero is not None:
            return zero
        if self.box_input == 'both' and (pred_decode is None or targets_decode is None):
            raise ValueError(f'{type(self).__name__} needs pred_decode and targets_decode (decoded boxes) '
                             'besides the encoded deltas; set reg_decoded_bbox=False and let the '
                             'head pass both')
        dtype = compute_dtype(pred.dtype)
        inputs: Dict[str, Tensor] = {k: v.to(dtype) for k, v in dict(
            pred=pred, target=target, pred_decode=pred_decode, targets_decode=targets_decode).items()
            if v is not None}
        keep = None
        if self.weight_as_mask:
            if weight is not None:
                keep = (weight > 0).detach()
                inputs = {k: v[keep] for k, v in inputs.items()}
            weight, avg_factor = None, None
        key = self.degenerate_target
        valid = None
        if key is not None:
            others = [k for k in _TARGET_SIDE if k != key and k in inputs]
            inputs[key], valid, cleaned = mask_degenerate_targets(inputs[key], *[inputs[k] for k in others])
            inputs.update(zip(others, cleaned))
        loss = self.loss_per_box(**inputs)
        if valid is None:
            valid = torch.ones_like(loss, dtype=torch.bool)
        if keep is not None and reduction == 'none':     # back to every sample: the dropped ones are 0
            full, full_valid = loss.new_zeros(keep.shape), keep.clone()
            full[keep], full_valid[keep] = loss, valid
            loss, valid = full, full_valid
        return self.loss_weight * reduce_box_loss(loss, valid, weight, reduction, avg_factor, pred.dtype)
