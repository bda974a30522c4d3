"""Delta coder from horizontal anchors to rotated boxes (mmrotate's ``DeltaXYWHTHBBoxCoder``)."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, norm_angle, regularize_rboxes
from .delta_xywht_rbbox_coder import clamp_log_ratio, rotated_angle_delta, swap_edges


@TASK_UTILS.register_module()
class DeltaXYWHTHBBoxCoder(BaseBBoxCoder):
    """Encode rotated boxes as (dx, dy, dw, dh, t) against horizontal anchors (x1, y1, x2, y2).

    The angle is regressed absolutely (the anchor angle is 0). Arguments as
    :class:`DeltaXYWHTRBBoxCoder`; ``clip_border`` is kept for config compatibility.
    """
    encode_size = 5

    def __init__(self, target_means: Sequence[float] = (0., 0., 0., 0., 0.),
                 target_stds: Sequence[float] = (1., 1., 1., 1., 1.), angle_version: str = 'oc',
                 norm_factor: Optional[float] = None, edge_swap: bool = False, clip_border: bool = True,
                 add_ctr_clamp: bool = False, ctr_clamp: int = 32, use_box_type: bool = True) -> None:
        super().__init__(use_box_type=use_box_type)
        norm_angle(torch.zeros(1), angle_version)
        self.means, self.stds = target_means, target_stds
        self.angle_version, self.norm_factor = angle_version, norm_factor
        self.edge_swap, self.clip_border = edge_swap, clip_border
        self.add_ctr_clamp, self.ctr_clamp = add_ctr_clamp, ctr_clamp

    def encode(self, bboxes, gt_bboxes) -> Tensor:
        anchors = get_box_tensor(bboxes).float()
        gts = regularize_rboxes(get_box_tensor(gt_bboxes).float(), self.angle_version)
        if anchors.size(-1) != 4 or gts.size(-1) != 5 or anchors.size(0) != gts.size(0):
            raise ValueError(f'encode needs (n, 4) anchors and (n, 5) targets, got {tuple(anchors.shape)} '
                             f'and {tuple(gts.shape)}')
        px, py = (anchors[:, 0] + anchors[:, 2]) / 2, (anchors[:, 1] + anchors[:, 3]) / 2
        pw, ph = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        gx, gy, gw, gh, gt = gts.unbind(-1)
        gw, gh, dt = rotated_angle_delta(gw, gh, gt, self.angle_version, self.edge_swap)
        if self.norm_factor:
            dt = dt / (self.norm_factor * np.pi)
        deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph), dt], -1)
        return (deltas - deltas.new_tensor(self.means)) / deltas.new_tensor(self.stds)

    def decode(self, bboxes, pred_bboxes: Tensor, max_shape: Optional[Sequence[int]] = None,
               wh_ratio_clip: float = 16 / 1000) -> Union[RotatedBoxes, Tensor]:
        anchors = get_box_tensor(bboxes)
        if pred_bboxes.size(0) == 0:
            return RotatedBoxes(pred_bboxes) if self.use_box_type else pred_bboxes
        deltas = pred_bboxes.reshape(*pred_bboxes.shape[:-1], -1, 5)
        deltas = deltas * deltas.new_tensor(self.stds) + deltas.new_tensor(self.means)
        dx, dy, dw, dh, dt = deltas.unbind(-1)
        if self.norm_factor:
            dt = dt * (self.norm_factor * np.pi)
        px = ((anchors[..., 0] + anchors[..., 2]) / 2)[..., None]
        py = ((anchors[..., 1] + anchors[..., 3]) / 2)[..., None]
        pw = (anchors[..., 2] - anchors[..., 0])[..., None]
        ph = (anchors[..., 3] - anchors[..., 1])[..., None]
        shift_x, shift_y = pw * dx, ph * dy
        if self.add_ctr_clamp:
            shift_x = shift_x.clamp(-self.ctr_clamp, self.ctr_clamp)
            shift_y = shift_y.clamp(-self.ctr_clamp, self.ctr_clamp)
        gw = pw * clamp_log_ratio(dw, wh_ratio_clip).exp()
        gh = ph * clamp_log_ratio(dh, wh_ratio_clip).exp()
        gt = norm_angle(dt, self.angle_version)
        if self.edge_swap:
            gw, gh, gt = swap_edges(gw, gh, gt, self.angle_version)
        decoded = torch.stack([px + shift_x, py + shift_y, gw, gh, gt], -1).reshape(pred_bboxes.shape)
        if self.use_box_type and decoded.size(-1) == 5:
            return RotatedBoxes(decoded, clone=False)
        return decoded
