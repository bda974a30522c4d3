"""Point-to-rotated-box coder for anchor-free heads (mmrotate's ``DistanceAnglePointCoder``)."""
from typing import Optional, Sequence, Union

import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, check_angle_version, norm_angle


def rbox_point_distances(points: Tensor, rboxes: Tensor) -> Tensor:
    """(left, top, right, bottom) from points to the edges of rboxes, in each box's own frame.

    Args:
        points (Tensor): (..., 2) points (x, y), broadcastable against ``rboxes``' leading dimensions.
        rboxes (Tensor): (..., 5) rotated boxes (cx, cy, w, h, t), t in radians.

    Returns:
        Tensor: (..., 4) distances; all four are positive exactly for a point inside its box.
    """
    ctr, w, h, t = rboxes[..., :2], rboxes[..., 2], rboxes[..., 3], rboxes[..., 4]
    c, s = torch.cos(t), torch.sin(t)
    off = points - ctr
    u = c * off[..., 0] + s * off[..., 1]
    v = -s * off[..., 0] + c * off[..., 1]
    return torch.stack([w / 2 + u, h / 2 + v, w / 2 - u, h / 2 - v], -1)


@TASK_UTILS.register_module()
class DistanceAnglePointCoder(BaseBBoxCoder):
    """Encode an rbox as (left, top, right, bottom, angle) seen from a point inside it.

    Args:
        clip_border (bool): Kept for mmrotate config compatibility; ``decode`` clips nothing (``max_shape``
            is ignored). Defaults to True.
        angle_version (str): Angle definition whose period wraps the decoded angles (``'oc'`` leaves them
            unchanged); ``RotatedFCOSHead`` passes its own unless its config sets one. Defaults to ``'oc'``.
        use_box_type (bool): Decode to ``RotatedBoxes`` rather than a tensor. Defaults to True.
    """
    encode_size = 5

    def __init__(self, clip_border: bool = True, angle_version: str = 'oc', use_box_type: bool = True) -> None:
        super().__init__(use_box_type=use_box_type)
        self.clip_border = clip_border
        self.angle_version = check_angle_version(angle_version, 'DistanceAnglePointCoder')

    def encode(self, points: Tensor, gt_bboxes, max_dis: Optional[float] = None, eps: float = 0.1) -> Tensor:
        gt = get_box_tensor(gt_bboxes)
        dist = rbox_point_distances(points, gt)
        if max_dis is not None:
            dist = dist.clamp(0, max_dis - eps)
        return torch.cat([dist, gt[..., 4:5]], -1)

    def decode(self, points: Tensor, pred_bboxes: Tensor, max_shape: Optional[Sequence[int]] = None
               ) -> Union[RotatedBoxes, Tensor]:
        if pred_bboxes.size(0) == 0:
            return RotatedBoxes(pred_bboxes) if self.use_box_type else pred_bboxes
        dist, angle = pred_bboxes[..., :4], pred_bboxes[..., 4:5]
        c, s = torch.cos(angle), torch.sin(angle)
        wh = dist[..., :2] + dist[..., 2:]
        half = (dist[..., 2:] - dist[..., :2]) / 2                     # centre offset in the box frame
        off = torch.cat([c * half[..., :1] - s * half[..., 1:], s * half[..., :1] + c * half[..., 1:]], -1)
        boxes = torch.cat([points[..., :2] + off, wh, norm_angle(angle, self.angle_version)], -1)
        return RotatedBoxes(boxes, clone=False) if self.use_box_type else boxes
