"""What the point heads with a separate angle branch (Rotated FCOS, RTMDet-R) share: the angle merged into
the box prediction, and the check that a horizontal box loss comes with an angle loss."""
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn


def check_hbbox_loss_has_angle_loss(head: str, use_hbbox_loss: bool, loss_angle: Optional[dict]) -> None:
    """A horizontal box loss does not see the angle: ``use_hbbox_loss=True`` needs ``loss_angle``.

    Args:
        head (str): The head's class name, for the message.
        use_hbbox_loss (bool): The head's ``use_hbbox_loss``.
        loss_angle (dict, optional): The head's ``loss_angle`` config.

    Raises:
        ValueError: If ``use_hbbox_loss`` is True and ``loss_angle`` is None (naming both).
    """
    if use_hbbox_loss and loss_angle is None:
        raise ValueError(f'{head}: use_hbbox_loss=True needs loss_angle (the horizontal box loss does not see the '
                         "angle), e.g. loss_angle=dict(type='mmdet.L1Loss', loss_weight=0.2)")


def merge_decoded_angle(angle_coder: nn.Module, bbox_preds: Sequence[Tensor],
                        angle_preds: Sequence[Tensor]) -> List[Tensor]:
    """Per level, the box prediction with the decoded angle appended as its last channel.

    Args:
        angle_coder (nn.Module): The head's angle coder (``decode(x, keepdim=True)`` on channels-last input).
        bbox_preds (Sequence[Tensor]): (N, 4, H, W) per level.
        angle_preds (Sequence[Tensor]): (N, encode_size, H, W) per level.

    Returns:
        list[Tensor]: (N, 5, H, W) per level.
    """
    return [torch.cat([b, angle_coder.decode(a.permute(0, 2, 3, 1), keepdim=True).permute(0, 3, 1, 2)], dim=1)
            for b, a in zip(bbox_preds, angle_preds)]
