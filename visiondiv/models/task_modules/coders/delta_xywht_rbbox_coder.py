"""Delta coder between rotated anchors and rotated boxes (mmrotate's ``DeltaXYWHTRBBoxCoder``)."""
import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, check_angle_version, norm_angle, regularize_rboxes


def rotated_angle_delta(gt_w: Tensor, gt_h: Tensor, dtheta: Tensor, angle_version: str,
                        edge_swap: bool) -> Tuple[Tensor, Tensor, Tensor]:
    """Angle delta and matching (w, h); with ``edge_swap``, the smaller of dt and dt + pi/2 (w/h swapped).

    Args:
        gt_w (Tensor): Target widths.
        gt_h (Tensor): Target heights, shaped like ``gt_w``.
        dtheta (Tensor): Target angle minus anchor angle, in radians, shaped like ``gt_w``.
        angle_version (str): Angle definition whose period wraps the delta (:func:`norm_angle`; ``'oc'``
            leaves it unchanged).
        edge_swap (bool): Pick, per box, the delta of smaller magnitude among the two parameterisations.

    Returns:
        tuple[Tensor, Tensor, Tensor]: The (possibly swapped) widths and heights and the wrapped angle delta.
    """
    if not edge_swap:
        return gt_w, gt_h, norm_angle(dtheta, angle_version)
    d1 = norm_angle(dtheta, angle_version)
    d2 = norm_angle(dtheta + math.pi / 2, angle_version)
    first = d1.abs() < d2.abs()
    return torch.where(first, gt_w, gt_h), torch.where(first, gt_h, gt_w), torch.where(first, d1, d2)


def swap_edges(w: Tensor, h: Tensor, t: Tensor, angle_version: str) -> Tuple[Tensor, Tensor, Tensor]:
    """Long edge first after decoding (mmrotate's decode-time ``edge_swap``).

    Where ``w <= h`` the edges are swapped and the angle turned by pi/2; every angle is then wrapped
    (:func:`norm_angle`).

    Args:
        w (Tensor): Decoded widths.
        h (Tensor): Decoded heights, shaped like ``w``.
        t (Tensor): Decoded angles in radians, shaped like ``w``.
        angle_version (str): Angle definition whose period wraps the angles.

    Returns:
        tuple[Tensor, Tensor, Tensor]: The widths (the longer edges), heights and angles.
    """
    longer = w > h
    return (torch.where(longer, w, h), torch.where(longer, h, w),
            norm_angle(torch.where(longer, t, t + math.pi / 2), angle_version))


def clamp_log_ratio(d: Tensor, wh_ratio_clip: float) -> Tensor:
    """Clamp log size ratios to +-|ln(wh_ratio_clip)|.

    Args:
        d (Tensor): Log size ratios (dw or dh).
        wh_ratio_clip (float): Smallest allowed size ratio (e.g. 16 / 1000), > 0.

    Returns:
        Tensor: ``d`` clamped.
    """
    max_ratio = abs(math.log(wh_ratio_clip))
    return d.clamp(-max_ratio, max_ratio)


def rbox2delta(anchors: Tensor, gts: Tensor, means: Sequence[float], stds: Sequence[float],
               angle_version: str, norm_factor: Optional[float] = None, edge_swap: bool = False,
               proj_xy: bool = False) -> Tensor:
    """Normalised deltas (n, 5) from rotated anchors (n, 5) to regularised targets (n, 5).

    The encode of both delta coders: horizontal anchors come in with angle 0.

    Args:
        anchors (Tensor): (n, 5) anchors (cx, cy, w, h, t), t in radians.
        gts (Tensor): (n, 5) target boxes, regularised by the caller for ``angle_version``.
        means (Sequence[float]): Five means subtracted from the deltas.
        stds (Sequence[float]): Five standard deviations the deltas are divided by.
        angle_version (str): Angle definition whose period wraps the angle delta.
        norm_factor (float, optional): The angle delta is divided by ``norm_factor * pi``; None (or 0) for no
            division. Defaults to None.
        edge_swap (bool): Regress the smaller of the two equivalent angle deltas
            (:func:`rotated_angle_delta`). Defaults to False.
        proj_xy (bool): Express (dx, dy) in the anchor's rotated frame. Defaults to False.

    Returns:
        Tensor: (n, 5) deltas (dx, dy, dw, dh, dt), ``(delta - means) / stds``.
    """
    px, py, pw, ph, pt = anchors.unbind(-1)
    gx, gy, gw, gh, gt = gts.unbind(-1)
    if proj_xy:
        c, s = torch.cos(pt), torch.sin(pt)
        dx = (c * (gx - px) + s * (gy - py)) / pw
        dy = (-s * (gx - px) + c * (gy - py)) / ph
    else:
        dx, dy = (gx - px) / pw, (gy - py) / ph
    gw, gh, dt = rotated_angle_delta(gw, gh, gt - pt, angle_version, edge_swap)
    if norm_factor:
        dt = dt / (norm_factor * np.pi)
    deltas = torch.stack([dx, dy, torch.log(gw / pw), torch.log(gh / ph), dt], -1)
    return (deltas - deltas.new_tensor(means)) / deltas.new_tensor(stds)


def delta2rbox(anchors: Tensor, pred_bboxes: Tensor, means: Sequence[float], stds: Sequence[float],
               angle_version: str, norm_factor: Optional[float] = None, edge_swap: bool = False,
               proj_xy: bool = False, add_ctr_clamp: bool = False, ctr_clamp: int = 32,
               max_shape: Optional[Sequence[int]] = None, wh_ratio_clip: float = 16 / 1000,
               use_box_type: bool = True) -> Union[RotatedBoxes, Tensor]:
    """Apply deltas (..., 5k) to rotated anchors (..., 5): the decode of both delta coders.

    As mmrotate's ``delta2bbox``: with ``add_ctr_clamp`` the centre shift is
    clamped to +-``ctr_clamp`` and the log sizes only from above; ``max_shape``
    (h, w) clamps the centre. Returns ``RotatedBoxes`` when ``use_box_type``
    and k = 1, else a tensor shaped like ``pred_bboxes``.

    Args:
        anchors (Tensor): (..., 5) anchors (cx, cy, w, h, t), t in radians.
        pred_bboxes (Tensor): (..., 5k) normalised deltas (dx, dy, dw, dh, dt), k per anchor; with no rows it
            is returned as it is (wrapped as ``RotatedBoxes`` under the same rule).
        means (Sequence[float]): Five means added back to the deltas.
        stds (Sequence[float]): Five standard deviations the deltas are multiplied by.
        angle_version (str): Angle definition whose period wraps the decoded angle.
        norm_factor (float, optional): The angle delta is multiplied by ``norm_factor * pi``; None (or 0) for
            none. Defaults to None.
        edge_swap (bool): Put the long edge first after decoding (:func:`swap_edges`). Defaults to False.
        proj_xy (bool): The centre deltas are in the anchor's rotated frame. Defaults to False.
        add_ctr_clamp (bool): Clamp the centre shift to +-``ctr_clamp`` and the log sizes only from above.
            Defaults to False.
        ctr_clamp (int): The centre shift bound, in pixels. Defaults to 32.
        max_shape (Sequence[int], optional): (h, w) the centre is clamped into (``[0, w - 1]``, ``[0, h - 1]``);
            None for no clamp. Defaults to None.
        wh_ratio_clip (float): Bound of the size ratios: the log sizes are clamped to +-|ln(wh_ratio_clip)|.
            Defaults to ``16 / 1000``.
        use_box_type (bool): Return ``RotatedBoxes`` (when k = 1). Defaults to True.

    Returns:
        RotatedBoxes or Tensor: The decoded boxes (cx, cy, w, h, t).
    """
    wrap = use_box_type and pred_bboxes.size(-1) == 5
    if pred_bboxes.size(0) == 0:
        return RotatedBoxes(pred_bboxes) if wrap else pred_bboxes
    deltas = pred_bboxes.reshape(*pred_bboxes.shape[:-1], -1, 5)
    deltas = deltas * deltas.new_tensor(stds) + deltas.new_tensor(means)
    dx, dy, dw, dh, dt = deltas.unbind(-1)
    if norm_factor:
        dt = dt * (norm_factor * np.pi)
    px, py, pw, ph, pt = (anchors[..., None, i] for i in range(5))
    if add_ctr_clamp:
        max_ratio = abs(math.log(wh_ratio_clip))
        shift_x = (pw * dx).clamp(-ctr_clamp, ctr_clamp)
        shift_y = (ph * dy).clamp(-ctr_clamp, ctr_clamp)
        dw, dh = dw.clamp(max=max_ratio), dh.clamp(max=max_ratio)
    else:
        shift_x, shift_y = pw * dx, ph * dy
        dw, dh = clamp_log_ratio(dw, wh_ratio_clip), clamp_log_ratio(dh, wh_ratio_clip)
    gw, gh = pw * dw.exp(), ph * dh.exp()
    if proj_xy:
        c, s = torch.cos(pt), torch.sin(pt)
        gx = px + c * shift_x - s * shift_y
        gy = py + s * shift_x + c * shift_y
    else:
        gx, gy = px + shift_x, py + shift_y
    gt = norm_angle(pt + dt, angle_version)
    if max_shape is not None:
        gx = gx.clamp(0, max_shape[1] - 1)
        gy = gy.clamp(0, max_shape[0] - 1)
    if edge_swap:
        gw, gh, gt = swap_edges(gw, gh, gt, angle_version)
    decoded = torch.stack([gx, gy, gw, gh, gt], -1).reshape(pred_bboxes.shape)
    return RotatedBoxes(decoded, clone=False) if wrap else decoded


@TASK_UTILS.register_module()
class DeltaXYWHTRBBoxCoder(BaseBBoxCoder):
    """Encode rotated boxes as (dx, dy, dw, dh, dt) against rotated anchors.

    Args:
        target_means (Sequence[float]): Means of the five deltas (normalisation of the deltas).
            Defaults to ``(0., 0., 0., 0., 0.)``.
        target_stds (Sequence[float]): Standard deviations of the five deltas (normalisation of the deltas).
            Defaults to ``(1., 1., 1., 1., 1.)``.
        angle_version (str): Angle definition, ``'oc'``, ``'le90'`` or ``'le135'``. Defaults to ``'oc'``.
        norm_factor (float, optional): dt is divided by ``norm_factor * pi``; None (or 0) for no division.
            Defaults to None.
        edge_swap (bool): Regress the smaller of the two equivalent angle deltas, and put the long edge first
            after decoding. Defaults to False.
        proj_xy (bool): Express (dx, dy) in the anchor's rotated frame. Defaults to False.
        add_ctr_clamp (bool): Clamp the decoded centre shift to +-``ctr_clamp`` (YOLOF style).
            Defaults to False.
        ctr_clamp (int): The centre shift bound, in pixels, with ``add_ctr_clamp``. Defaults to 32.
        use_box_type (bool): Decode to ``RotatedBoxes`` rather than a tensor. Defaults to True.

    Raises:
        ValueError: If ``angle_version`` is not one of ``'oc'``, ``'le90'``, ``'le135'``.
    """
    encode_size = 5

    def __init__(self, target_means: Sequence[float] = (0., 0., 0., 0., 0.),
                 target_stds: Sequence[float] = (1., 1., 1., 1., 1.), angle_version: str = 'oc',
                 norm_factor: Optional[float] = None, edge_swap: bool = False, proj_xy: bool = False,
                 add_ctr_clamp: bool = False, ctr_clamp: int = 32, use_box_type: bool = True) -> None:
        super().__init__(use_box_type=use_box_type)
        check_angle_version(angle_version, 'DeltaXYWHTRBBoxCoder')
        self.means, self.stds = target_means, target_stds
        self.angle_version, self.norm_factor = angle_version, norm_factor
        self.edge_swap, self.proj_xy = edge_swap, proj_xy
        self.add_ctr_clamp, self.ctr_clamp = add_ctr_clamp, ctr_clamp

    def encode(self, bboxes: Union[RotatedBoxes, Tensor], gt_bboxes: Union[RotatedBoxes, Tensor]) -> Tensor:
        """Deltas that turn anchors ``bboxes`` (n, 5) into ``gt_bboxes`` (n, 5)."""
        anchors = get_box_tensor(bboxes).float()
        gts = regularize_rboxes(get_box_tensor(gt_bboxes).float(), self.angle_version)
        if anchors.shape != gts.shape or anchors.size(-1) != 5:
            raise ValueError(f'encode needs two (n, 5) box sets, got {tuple(anchors.shape)} and {tuple(gts.shape)}')
        return rbox2delta(anchors, gts, self.means, self.stds, self.angle_version, self.norm_factor,
                          self.edge_swap, self.proj_xy)

    def decode(self, bboxes: Union[RotatedBoxes, Tensor], pred_bboxes: Tensor,
               max_shape: Optional[Sequence[int]] = None,
               wh_ratio_clip: float = 16 / 1000) -> Union[RotatedBoxes, Tensor]:
        """Apply deltas (n, 5k) to anchors (n, 5); returns boxes of the same shape as the deltas."""
        return delta2rbox(get_box_tensor(bboxes), pred_bboxes, self.means, self.stds, self.angle_version,
                          self.norm_factor, self.edge_swap, self.proj_xy, self.add_ctr_clamp, self.ctr_clamp,
                          max_shape, wh_ratio_clip, self.use_box_type)
