"""KFIoU loss for rotated boxes (Yang et al., ICLR 2023)."""
from typing import Optional

import torch
from torch import Tensor

from visiondiv.divergences.gaussian import kalman_overlap
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D
from visiondiv.utils.validation import check_non_negative
from .base_box_loss import BaseBoxLoss


def smooth_l1(diff: Tensor, beta: float) -> Tensor:
    """Elementwise smooth-L1 of ``diff`` with transition point ``beta``.

    0.5 x^2 / beta where |x| < beta, |x| - 0.5 beta elsewhere (mmrotate's ``kfiou_loss`` centre term);
    ``beta = 0`` is the L1 loss |x|, as ``torch.nn.functional.smooth_l1_loss`` has it.

    Args:
        diff (Tensor): differences x, any shape.
        beta (float): the transition point, >= 0.

    Returns:
        Tensor: the losses, same shape as ``diff``, >= 0.
    """
    diff = diff.abs()
    if beta == 0:  # the quadratic branch would divide by 0, and torch.where passes its NaN gradient on
        return diff
    return torch.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)


# 'KFIoULoss': the name visiondiv's first configs used (after the paper); kept so that they still build
@MODELS.register_module(name=['KFLoss', 'KFIoULoss'])
class KFLoss(BaseBoxLoss):
    """Kalman-filter IoU loss, mmrotate's ``KFLoss`` (also registered as ``KFIoULoss``).

    loss = smooth_l1(dx, dy; beta) + g(KFIoU), with the centre term on the
    encoded deltas and KFIoU on the decoded boxes (both are required,
    mmrotate#541). ``fun``: none -> 1 - KFIoU, ln -> -ln(KFIoU + eps),
    exp -> e^(1 - KFIoU) - 1.

    The centre term is the smooth-L1 of the (dx, dy) deltas summed over the two; KFIoU
    (:func:`~visiondiv.divergences.gaussian.kalman_overlap`) is at most 1/3, so with ``fun='none'`` the
    KFIoU term is at least 2/3, as in mmrotate. The per-box sum is clamped at 0. Targets whose decoded box
    has a side <= 1e-6 (or a non-finite value) get zero loss.

    Args:
        fun (str): g: ``'none'`` (1 - KFIoU), ``'ln'`` (-ln(KFIoU + eps)) or ``'exp'`` (e^(1 - KFIoU) - 1).
            Defaults to ``'none'``.
        beta (float): transition point of the smooth-L1 centre term, finite and >= 0 (0: L1). Defaults to 1.0 / 9.0.
        eps (float): added to the KFIoU denominator and, for ``'ln'``, inside the logarithm. Defaults to 1e-6.
        reduction (str): none, mean or sum. Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.

    Raises:
        ValueError: for an unknown ``fun`` or ``reduction``, or a negative or non-finite ``beta``.
    """

    #: encoded deltas plus both decoded boxes (``pred_decode``, ``targets_decode``); degenerate decoded
    #: targets are masked (their deltas with them)
    box_input = 'both'
    degenerate_target = 'targets_decode'

    def __init__(self, fun: str = 'none', beta: float = 1.0 / 9.0, eps: float = 1e-6,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        if fun not in ('none', 'ln', 'exp'):
            raise ValueError(f"fun must be 'none', 'ln' or 'exp', got {fun!r}")
        check_non_negative(beta, 'beta', 'KFLoss')
        super().__init__(reduction=reduction, loss_weight=loss_weight)
        self.fun, self.beta, self.eps = fun, beta, eps

    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        """Smooth-L1 of the centre deltas plus g(KFIoU) of the decoded boxes, for each pair."""
        xy_loss = smooth_l1(pred[..., :2] - target[..., :2], self.beta).sum(-1)
        kfiou = kalman_overlap(Gaussian2D.from_rbox(pred_decode), Gaussian2D.from_rbox(targets_decode), self.eps)
        if self.fun == 'ln':
            kf_loss = -torch.log(kfiou + self.eps)
        elif self.fun == 'exp':
            kf_loss = torch.exp(1 - kfiou) - 1
        else:
            kf_loss = 1 - kfiou
        return (xy_loss + kf_loss).clamp_min(0)
