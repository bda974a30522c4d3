"""Smooth focal loss of the circular smooth labels (CSL), mmrotate's ``SmoothFocalLoss``."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from torch import Tensor

from visiondiv.registry import MODELS

REDUCTIONS = ('none', 'mean', 'sum')


def smooth_focal_loss(pred: Tensor, target: Tensor, weight: Optional[Tensor] = None, gamma: float = 2.0,
                      alpha: float = 0.25, reduction: str = 'mean', avg_factor: Optional[float] = None) -> Tensor:
    """Sigmoid focal loss against soft targets in [0, 1] (the CSL labels of :class:`CSLCoder`).

    Per element, with ``p = sigmoid(pred)`` and soft target ``t``:
    ``BCE(pred, t) * (alpha * t + (1 - alpha) * (1 - t)) * ((1 - p) * t + p * (1 - t)) ** gamma``.

    Args:
        pred (Tensor): (N, C) logits.
        target (Tensor): (N, C) soft targets.
        weight (Tensor, optional): (N,) per row, or N * C per element. Defaults to None.
        gamma (float): focusing exponent. Defaults to 2.0.
        alpha (float): weight of the positive part. Defaults to 0.25.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        avg_factor (float, optional): the mean's denominator. Defaults to None.

    Returns:
        Tensor: the loss ((N, C) with ``'none'``, else a scalar).
    """
    prob = pred.sigmoid()
    target = target.type_as(pred)
    pt = (1 - prob) * target + prob * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction='none') * focal_weight
    if weight is not None:
        if weight.shape != loss.shape:
            weight = weight.view(-1, 1) if weight.numel() == loss.size(0) else weight.view(loss.size(0), -1)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


@MODELS.register_module()
class SmoothFocalLoss(nn.Module):
    """mmrotate's ``SmoothFocalLoss`` (CSL's angle loss) with its arguments and values: :func:`smooth_focal_loss`.

    Args:
        gamma (float): focusing exponent, >= 0. Defaults to 2.0.
        alpha (float): weight of the positive part, in [0, 1]. Defaults to 0.25.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.

    Raises:
        ValueError: naming ``gamma``, ``alpha`` or ``reduction`` when out of range.
    """

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f'SmoothFocalLoss: gamma must be >= 0, got {gamma}')
        if not 0 <= alpha <= 1:
            raise ValueError(f'SmoothFocalLoss: alpha must be in [0, 1], got {alpha}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'SmoothFocalLoss: reduction must be one of {REDUCTIONS}, got {reduction!r}')
        self.gamma, self.alpha, self.reduction, self.loss_weight = gamma, alpha, reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None) -> Tensor:
        """The weighted loss.

        Args:
            pred (Tensor): (N, C) logits.
            target (Tensor): (N, C) soft targets.
            weight (Tensor, optional): (N,) or per element. Defaults to None.
            avg_factor (float, optional): the mean's denominator. Defaults to None.
            reduction_override (str, optional): replaces ``reduction``. Defaults to None.

        Returns:
            Tensor: the loss.
        """
        reduction = reduction_override or self.reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f'SmoothFocalLoss: reduction_override must be one of {REDUCTIONS}, got {reduction!r}')
        return self.loss_weight * smooth_focal_loss(pred, target, weight, self.gamma, self.alpha, reduction,
                                                    avg_factor)
