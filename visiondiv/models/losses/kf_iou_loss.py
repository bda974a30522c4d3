"""KFIoU loss for rotated boxes (Yang et al., ICLR 2023)."""
from typing import Optional

import torch
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D
from .gaussian_divergence import kalman_overlap
from .utils import (compute_dtype, mask_degenerate_targets, prepare_box_loss, reduce_box_loss,
                    resolve_reduction)


def smooth_l1(diff: Tensor, beta: float) -> Tensor:
    """Elementwise smooth-L1 of ``diff`` with transition point ``beta``."""
    diff = diff.abs()
    return torch.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)


@MODELS.register_module(name=['KFLoss', 'KFIoULoss'])
class KFLoss(nn.Module):
    """Kalman-filter IoU loss, mmrotate's ``KFLoss`` (also registered as ``KFIoULoss``).

    loss = smooth_l1(dx, dy; beta) + g(KFIoU), with the centre term on the
    encoded deltas and KFIoU on the decoded boxes (both are required,
    mmrotate#541). ``fun``: none -> 1 - KFIoU, ln -> -ln(KFIoU + eps),
    exp -> e^(1 - KFIoU) - 1.
    """

    #: what the dense heads pass (:func:`~visiondiv.models.losses.utils.declared_box_input`): encoded
    #: deltas plus both decoded boxes (``pred_decode``, ``targets_decode``)
    box_input = 'both'

    def __init__(self, fun: str = 'none', beta: float = 1.0 / 9.0, eps: float = 1e-6,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if fun not in ('none', 'ln', 'exp'):
            raise ValueError(f"fun must be 'none', 'ln' or 'exp', got {fun!r}")
        resolve_reduction(reduction, None)
        self.fun, self.beta, self.eps = fun, beta, eps
        self.reduction, self.loss_weight = reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, pred_decode: Optional[Tensor] = None,
                targets_decode: Optional[Tensor] = None, reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """``pred``/``target``: encoded deltas (n, 5); ``pred_decode``/``targets_decode``: boxes (n, 5)."""
        reduction, weight, zero = prepare_box_loss(pred, weight, self.reduction, reduction_override)
        if zero is not None:
            return zero
        if pred_decode is None or targets_decode is None:
            raise ValueError('KFLoss needs pred_decode and targets_decode (decoded boxes) '
                             'besides the encoded deltas; set reg_decoded_bbox=False and let the '
                             'head pass both')
        dtype = compute_dtype(pred.dtype)
        targets_decode, valid, (target,) = mask_degenerate_targets(targets_decode.to(dtype),
                                                                   target.to(dtype))
        xy_loss = smooth_l1(pred[..., :2].to(dtype) - target[..., :2], self.beta).sum(-1)
        kfiou = kalman_overlap(Gaussian2D.from_rbox(pred_decode.to(dtype)),
                               Gaussian2D.from_rbox(targets_decode), self.eps)
        if self.fun == 'ln':
            kf_loss = -torch.log(kfiou + self.eps)
        elif self.fun == 'exp':
            kf_loss = torch.exp(1 - kfiou) - 1
        else:
            kf_loss = 1 - kfiou
        loss = (xy_loss + kf_loss).clamp_min(0)
        return self.loss_weight * reduce_box_loss(loss, valid, weight, reduction, avg_factor, pred.dtype)


#: the former class name, kept importable; the registry knows it as well
KFIoULoss = KFLoss
