"""Angle coders of the rotated heads (mmrotate's ``coders/angle_coder.py``)."""
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from torch import Tensor

from visiondiv.registry import TASK_UTILS


@TASK_UTILS.register_module()
class PseudoAngleCoder(BaseBBoxCoder):
    """Identity angle coder (the angle is regressed directly), for mmrotate config compatibility.

    ``encode_size`` is 1: ``encode`` returns the angle targets (..., 1) unchanged and ``decode`` the
    predictions, without their last dimension unless ``keepdim``.

    Args:
        use_box_type (bool): mmdet's ``BaseBBoxCoder`` flag; this coder never wraps its output in a box
            type. Defaults to False.
    """
    encode_size = 1

    def __init__(self, use_box_type: bool = False) -> None:
        super().__init__(use_box_type=use_box_type)

    def encode(self, angle_targets: Tensor) -> Tensor:
        return angle_targets

    def decode(self, angle_preds: Tensor, keepdim: bool = False) -> Tensor:
        return angle_preds if keepdim else angle_preds.squeeze(-1)
