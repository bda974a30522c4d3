"""IoU loss of rotated boxes, mmrotate's ``RotatedIoULoss``, on a differentiable rotated IoU that runs on CPU."""
import warnings
from typing import Optional

from torch import Tensor

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import rotated_iou
from .base_box_loss import BaseBoxLoss

MODES = ('linear', 'square', 'log')


def rotated_iou_loss(pred: Tensor, target: Tensor, mode: str = 'log', eps: float = 1e-6) -> Tensor:
    """Per-box loss from the IoU of rotated boxes (n, 5), clamped below at ``eps``.

    ``linear``: 1 - IoU; ``square``: 1 - IoU^2; ``log``: -ln IoU. The IoU
    (:func:`~visiondiv.structures.bbox.rotated_iou` of aligned pairs) is clamped to [eps, 1] first.

    Args:
        pred (Tensor): predicted boxes (n, 5) (cx, cy, w, h, angle in radians).
        target (Tensor): target boxes (n, 5), paired with ``pred`` row by row.
        mode (str): ``'linear'``, ``'square'`` or ``'log'``. Defaults to ``'log'``.
        eps (float): lower clamp of the IoU (keeps ``log`` finite: at most -ln eps). Defaults to 1e-6.

    Returns:
        Tensor: (n,) losses, >= 0.

    Raises:
        ValueError: for an unknown ``mode``.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    ious = rotated_iou(pred, target).clamp(min=eps)
    if mode == 'linear':
        return 1 - ious
    if mode == 'square':
        return 1 - ious * ious
    return -ious.log()


@MODELS.register_module()
class RotatedIoULoss(BaseBoxLoss):
    """IoU loss between rotated boxes, mmrotate's ``RotatedIoULoss`` with its arguments and values.

    mmrotate computes the IoU with mmcv's CUDA-only ``diff_iou_rotated_2d``; here it is
    :func:`~visiondiv.structures.bbox.rotated_iou`, which gives the same values on CPU and GPU.

    Args:
        linear (bool): deprecated spelling of ``mode='linear'`` (warns, as mmrotate); True overrides ``mode``.
            Defaults to False.
        eps (float): lower clamp of the IoU (keeps ``log`` finite). Defaults to 1e-6.
        reduction (str): none, mean or sum. Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.
        mode (str): linear (1 - IoU), square (1 - IoU^2) or log (-ln IoU). Defaults to ``'log'``.

    Inputs are decoded boxes (n, 5); ``weight`` is (n,) or per coordinate (n, 5) (its mean
    is used). Half-precision inputs are computed in fp32 and returned in the input dtype.
    Targets with a side <= 1e-6 get zero loss, as in the other box losses (mmrotate#301).

    Raises:
        ValueError: for an unknown ``mode`` (checked even when ``linear`` is True) or ``reduction``.
    """

    box_input = 'decoded'

    def __init__(self, linear: bool = False, eps: float = 1e-6, reduction: str = 'mean',
                 loss_weight: float = 1.0, mode: str = 'log') -> None:
        if mode not in MODES:
            raise ValueError(f'RotatedIoULoss: mode must be one of {MODES}, got {mode!r}')
        if linear:
            mode = 'linear'
            warnings.warn('RotatedIoULoss: linear=True is deprecated, use mode="linear"', DeprecationWarning)
        super().__init__(reduction=reduction, loss_weight=loss_weight)
        self.mode, self.linear, self.eps = mode, linear, eps

    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        """:func:`rotated_iou_loss` of each box pair."""
        return rotated_iou_loss(pred, target, self.mode, self.eps)
