"""Midpoint-offset coder of Oriented R-CNN's oriented RPN (mmrotate's ``MidpointOffsetCoder``)."""
import math
from typing import Optional, Sequence, Union

import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import (ANGLE_VERSIONS, RotatedBoxes, check_angle_version, rbox2hbox, rbox2qbox,
                                       regularize_rboxes)

#: a vertex within this many pixels of the top row (right column) of a box's corners counts as on it (mmrotate)
_ON_EDGE_TOL = 0.1


def midpoint_encode(proposals: Tensor, gts: Tensor, means: Sequence[float] = (0., 0., 0., 0., 0., 0.),
                    stds: Sequence[float] = (1., 1., 1., 1., 1., 1.)) -> Tensor:
    """Deltas (dx, dy, dw, dh, da, db) from horizontal proposals (n, 4) to rotated boxes (n, 5).

    (dx, dy, dw, dh) are mmdet's deltas to the target's horizontal envelope;
    ``da`` is the offset of the rightmost corner on the envelope's top edge from
    the envelope's centre, over its width, and ``db`` that of the lowest corner
    on its right edge, over its height (corners within 0.1 px of the edge count
    as on it), as mmrotate computes them.

    Args:
        proposals (Tensor): (n, 4) horizontal boxes x1, y1, x2, y2.
        gts (Tensor): (n, 5) rotated boxes cx, cy, w, h, t (radians), already regularised.
        means (Sequence[float]): Subtracted from the six deltas. Defaults to zeros.
        stds (Sequence[float]): The six deltas are divided by them. Defaults to ones.

    Returns:
        Tensor: (n, 6) deltas, fp32.
    """
    proposals, gts = proposals.float(), gts.float()
    px = (proposals[..., 0] + proposals[..., 2]) * 0.5
    py = (proposals[..., 1] + proposals[..., 3]) * 0.5
    pw = proposals[..., 2] - proposals[..., 0]
    ph = proposals[..., 3] - proposals[..., 1]

    hbb, poly = rbox2hbox(gts), rbox2qbox(gts)
    gx = (hbb[..., 0] + hbb[..., 2]) * 0.5
    gy = (hbb[..., 1] + hbb[..., 3]) * 0.5
    gw = hbb[..., 2] - hbb[..., 0]
    gh = hbb[..., 3] - hbb[..., 1]

    xs, ys = poly[..., 0::2], poly[..., 1::2]
    on_top = (ys - ys.min(-1, keepdim=True).values).abs() <= _ON_EDGE_TOL
    on_right = (xs - xs.max(-1, keepdim=True).values).abs() <= _ON_EDGE_TOL
    ga = torch.where(on_top, xs, xs.new_tensor(-1000.)).max(-1).values
    gb = torch.where(on_right, ys, ys.new_tensor(-1000.)).max(-1).values

    deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph),
                          (ga - gx) / gw, (gb - gy) / gh], dim=-1)
    return (deltas - deltas.new_tensor(means)) / deltas.new_tensor(stds)


def midpoint_decode(rois: Tensor, deltas: Tensor, means: Sequence[float] = (0., 0., 0., 0., 0., 0.),
                    stds: Sequence[float] = (1., 1., 1., 1., 1., 1.), wh_ratio_clip: float = 16 / 1000,
                    angle_version: str = 'oc') -> Tensor:
    """Rotated boxes from horizontal ``rois`` (..., 4) and deltas (..., 6k), vectorised.

    mmrotate builds the parallelogram (ga, y1), (x2, gb), (2gx - ga, y2),
    (x1, 2gy - gb), rescales its half-diagonals to the longer one (a
    parallelogram's diagonals bisect each other; equal diagonals make it a
    rectangle) and runs ``cv2.minAreaRect`` on each box in a Python loop. The
    rectangle's minimum-area rectangle is itself, so here it is written in
    closed form: with e0, e1 the unit half-diagonals to the first two vertices
    and m the longer half-diagonal, its sides are m |e0 + e1| along the bisector
    of e0 and e1 and m |e1 - e0| across it (a segment when da, db are clamped
    to +-1/2 keeps its direction, as with cv2), then
    :func:`regularize_rboxes` gives the same unique form as mmrotate's
    ``RotatedBoxes.regularize_boxes`` after ``cv2.minAreaRect``.

    Args:
        rois (Tensor): (..., 4) horizontal boxes x1, y1, x2, y2.
        deltas (Tensor): (..., 6k) deltas; k boxes per roi (one per class).
        means (Sequence[float]): Added to the de-normalised deltas. Defaults to zeros.
        stds (Sequence[float]): The deltas are multiplied by them. Defaults to ones.
        wh_ratio_clip (float): dw, dh are clamped to +-|log(wh_ratio_clip)|. Defaults to 16 / 1000.
        angle_version (str): The form of the result, ``'oc'``, ``'le90'`` or ``'le135'``. Defaults to 'oc'.

    Returns:
        Tensor: (..., 5k) rotated boxes, in fp32 for half-precision input, else in ``deltas``' dtype.
    """
    dtype = torch.float32 if deltas.dtype in (torch.float16, torch.bfloat16) else deltas.dtype
    if deltas.size(0) == 0:
        return deltas.new_zeros(*deltas.shape[:-1], deltas.size(-1) // 6 * 5 or 5, dtype=dtype)
    d = deltas.to(dtype).reshape(*deltas.shape[:-1], -1, 6)
    # one contiguous row per component: the elementwise work below runs on dense (…, k) tensors
    d = (d * d.new_tensor(stds) + d.new_tensor(means)).movedim(-1, 0).contiguous()
    max_ratio = abs(math.log(wh_ratio_clip))
    d[2:4].clamp_(-max_ratio, max_ratio)
    d[4:6].clamp_(-0.5, 0.5)
    dx, dy, dw, dh, da, db = d.unbind(0)
    r = rois.to(dtype).movedim(-1, 0)[..., None]
    pw, ph = r[2] - r[0], r[3] - r[1]
    gw, gh = pw * dw.exp(), ph * dh.exp()
    gx = torch.addcmul((r[0] + r[2]) * 0.5, pw, dx)
    gy = torch.addcmul((r[1] + r[3]) * 0.5, ph, dy)
    # half-diagonals a0, a1 to the vertices (ga, y1) and (x2, gb) (the other two are their opposites), rescaled
    # to the longer length m: with e0, e1 their unit vectors the rectangle has the side m |e0 + e1| along the
    # bisector e0 + e1 and the side m |e1 - e0| across it (e1 - e0 is normal to the bisector)
    a0x, a0y = da * gw, gh * -0.5
    a1x, a1y = gw * 0.5, db * gh
    n0, n1 = torch.hypot(a0x, a0y), torch.hypot(a1x, a1y)
    tiny = torch.finfo(dtype).tiny
    n0, n1 = n0.clamp_min(tiny), n1.clamp_min(tiny)
    e0x, e0y, e1x, e1y = a0x / n0, a0y / n0, a1x / n1, a1y / n1
    sx, sy, qx, qy = e0x + e1x, e0y + e1y, e1x - e0x, e1y - e0y
    along, across = torch.hypot(sx, sy), torch.hypot(qx, qy)
    longest = torch.maximum(n0, n1)
    w, h = longest * along, longest * across
    # the bisector's angle (mod pi) from the better conditioned of the two vectors
    acute = along >= across
    t = torch.where(acute, torch.atan2(sy, sx), torch.atan2(qy, qx) - math.pi / 2)
    # regularize_rboxes(angle_version) on the components (w, h >= 0 here), one stack at the end
    width_longer, start = ANGLE_VERSIONS[angle_version]
    if width_longer:
        swap = h >= w
        w, h = torch.maximum(w, h), torch.minimum(w, h)
        t = torch.remainder(t + swap * (math.pi / 2) - start, math.pi) + start
    else:
        t = torch.remainder(t - start, math.pi)
        swap = t >= math.pi / 2
        w, h = torch.where(swap, h, w), torch.where(swap, w, h)
        t = t - swap * (math.pi / 2) + start
    return torch.stack([gx, gy, w, h, t], dim=-1).reshape(*deltas.shape[:-1], -1)


@TASK_UTILS.register_module()
class MidpointOffsetCoder(BaseBBoxCoder):
    """Encode rotated boxes as midpoint offsets (dx, dy, dw, dh, da, db) of horizontal boxes (x1, y1, x2, y2).

    mmrotate's coder of the oriented RPN (Oriented R-CNN, Xie et al. ICCV
    2021): same arguments, deltas and decoded boxes; decoding is vectorised
    (:func:`midpoint_decode`) instead of a ``cv2.minAreaRect`` loop.

    Args:
        target_means (Sequence[float]): Means of the six deltas. Defaults to zeros.
        target_stds (Sequence[float]): Standard deviations of the six deltas. Defaults to ones.
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``: the form of the targets and decoded boxes.
            Defaults to 'oc'.
        use_box_type (bool): Decode to ``RotatedBoxes`` rather than a tensor. Defaults to True.

    Raises:
        ValueError: An unknown ``angle_version``, or means/stds that are not six numbers.
    """
    encode_size = 6

    def __init__(self, target_means: Sequence[float] = (0., 0., 0., 0., 0., 0.),
                 target_stds: Sequence[float] = (1., 1., 1., 1., 1., 1.), angle_version: str = 'oc',
                 use_box_type: bool = True) -> None:
        super().__init__(use_box_type=use_box_type)
        check_angle_version(angle_version, 'MidpointOffsetCoder')
        if len(target_means) != 6 or len(target_stds) != 6:
            raise ValueError(f'MidpointOffsetCoder: target_means and target_stds need 6 values, got '
                             f'{list(target_means)} and {list(target_stds)}')
        self.means, self.stds, self.angle_version = target_means, target_stds, angle_version

    def encode(self, bboxes: Union[HorizontalBoxes, Tensor], gt_bboxes: Union[RotatedBoxes, Tensor]) -> Tensor:
        """Deltas (n, 6) that turn horizontal boxes ``bboxes`` (n, 4) into ``gt_bboxes`` (n, 5)."""
        boxes, gts = get_box_tensor(bboxes), get_box_tensor(gt_bboxes)
        if boxes.size(-1) != 4 or gts.size(-1) != 5 or boxes.size(0) != gts.size(0):
            raise ValueError(f'encode needs (n, 4) boxes and (n, 5) targets, got {tuple(boxes.shape)} '
                             f'and {tuple(gts.shape)}')
        return midpoint_encode(boxes, regularize_rboxes(gts.float(), self.angle_version), self.means, self.stds)

    def decode(self, bboxes: Union[HorizontalBoxes, Tensor], pred_bboxes: Tensor,
               max_shape: Optional[Sequence[int]] = None,
               wh_ratio_clip: float = 16 / 1000) -> Union[RotatedBoxes, Tensor]:
        """Rotated boxes (n, 5k) from horizontal boxes (n, 4) and deltas (n, 6k); ``max_shape`` unused (mmrotate)."""
        boxes = get_box_tensor(bboxes)
        if boxes.size(-1) != 4 or pred_bboxes.size(-1) % 6 or pred_bboxes.size(0) != boxes.size(0):
            raise ValueError(f'decode needs (n, 4) boxes and (n, 6k) deltas, got {tuple(boxes.shape)} '
                             f'and {tuple(pred_bboxes.shape)}')
        decoded = midpoint_decode(boxes, pred_bboxes, self.means, self.stds, wh_ratio_clip, self.angle_version)
        if self.use_box_type:
            if decoded.size(-1) != 5:
                raise ValueError('Cannot wrap decoded boxes of shape (n, num_classes * 5) in RotatedBoxes; '
                                 'set use_box_type=False')
            decoded = RotatedBoxes(decoded)
        return decoded
