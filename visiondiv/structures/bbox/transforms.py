"""Conversions between horizontal, rotated and quadrilateral boxes.

Box types: ``hbox`` (x1, y1, x2, y2), ``rbox`` (cx, cy, w, h, t) with t in
radians (a horizontal box turned clockwise in image coordinates by t), and
``qbox`` (x1, y1, ..., x4, y4).
"""
import torch
from torch import Tensor

from .angle import regularize_rboxes


def rbox2qbox(boxes: Tensor) -> Tensor:
    """Rotated boxes (..., 5) to their four corners (..., 8).

    Corner order follows mmrotate: (+w/2,+h/2), (+w/2,-h/2), (-w/2,-h/2),
    (-w/2,+h/2) in the box frame.

    Args:
        boxes (Tensor): Rotated boxes (..., 5): cx, cy, w, h, t, t in radians.

    Returns:
        Tensor: Corners (..., 8): x1, y1, ..., x4, y4.
    """
    ctr, w, h, t = boxes.split((2, 1, 1, 1), dim=-1)
    cos, sin = torch.cos(t), torch.sin(t)
    half_w = torch.cat([w * cos, w * sin], dim=-1) / 2
    half_h = torch.cat([-h * sin, h * cos], dim=-1) / 2
    corners = [ctr + half_w + half_h, ctr + half_w - half_h,
               ctr - half_w - half_h, ctr - half_w + half_h]
    return torch.cat(corners, dim=-1)


def min_area_rect(points: Tensor, theta: Tensor) -> Tensor:
    """Smallest-area enclosing rectangle of each point set among candidate side directions.

    Args:
        points (Tensor): (n, k, 2) point sets.
        theta (Tensor): (n, d) candidate directions (radians) of one rectangle side.

    Returns:
        Tensor: (n, 5) rotated boxes (cx, cy, w, h, t), w along the chosen direction.
    """
    cos, sin = torch.cos(theta), torch.sin(theta)
    px, py = points[:, None, :, 0], points[:, None, :, 1]
    u = px * cos[..., None] + py * sin[..., None]            # (n, d, k) along the direction
    v = -px * sin[..., None] + py * cos[..., None]           # and along its normal
    u_min, u_max = u.min(-1).values, u.max(-1).values
    v_min, v_max = v.min(-1).values, v.max(-1).values
    best = ((u_max - u_min) * (v_max - v_min)).argmin(dim=1, keepdim=True)

    def pick(x: Tensor) -> Tensor:
        return x.gather(1, best).squeeze(1)

    c, s = pick(cos), pick(sin)
    uc = (pick(u_min) + pick(u_max)) / 2
    vc = (pick(v_min) + pick(v_max)) / 2
    return torch.stack([uc * c - vc * s, uc * s + vc * c, pick(u_max) - pick(u_min),
                        pick(v_max) - pick(v_min), pick(theta)], dim=-1)


def qbox2rbox(boxes: Tensor, angle_version: str = 'le90') -> Tensor:
    """Quadrilaterals (..., 8) to their minimum-area rotated rectangles (..., 5).

    The minimum-area enclosing rectangle of a point set has a side along an
    edge of the convex hull. The hull edges of 4 points are among the 6
    point pairs, so trying all 6 directions is exact for any quadrilateral,
    convex or not, and is vectorised (no per-box ``cv2.minAreaRect`` loop).

    Args:
        boxes (Tensor): Quadrilaterals (..., 8): x1, y1, ..., x4, y4, in any corner order.
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``, the form of the result
            (:func:`regularize_rboxes`). Defaults to 'le90'.

    Returns:
        Tensor: Rotated boxes (..., 5): cx, cy, w, h, t, t in radians; computed in float64 and returned
        in ``boxes``' dtype.

    Raises:
        ValueError: an unknown ``angle_version``.
    """
    shape = boxes.shape[:-1]
    pts = boxes.reshape(-1, 4, 2)
    if pts.shape[0] == 0:
        return boxes.new_zeros(*shape, 5)
    work = pts.double()
    i_idx = torch.tensor([0, 1, 2, 3, 0, 1], device=boxes.device)
    j_idx = torch.tensor([1, 2, 3, 0, 2, 3], device=boxes.device)
    edge = work[:, j_idx] - work[:, i_idx]
    rboxes = min_area_rect(work, torch.atan2(edge[..., 1], edge[..., 0]))
    rboxes = regularize_rboxes(rboxes, angle_version).to(boxes.dtype)
    return rboxes.reshape(*shape, 5)


def rbox2hbox(boxes: Tensor) -> Tensor:
    """Rotated boxes (..., 5) to their horizontal bounding boxes (..., 4).

    Args:
        boxes (Tensor): Rotated boxes (..., 5): cx, cy, w, h, t, t in radians.

    Returns:
        Tensor: Horizontal boxes (..., 4): x1, y1, x2, y2.
    """
    ctr, w, h, t = boxes.split((2, 1, 1, 1), dim=-1)
    cos, sin = torch.cos(t).abs(), torch.sin(t).abs()
    half = torch.cat([w * cos + h * sin, w * sin + h * cos], dim=-1) / 2
    return torch.cat([ctr - half, ctr + half], dim=-1)


def hbox2rbox(boxes: Tensor) -> Tensor:
    """Horizontal boxes (..., 4) to rotated boxes with angle 0 (..., 5).

    Args:
        boxes (Tensor): Horizontal boxes (..., 4): x1, y1, x2, y2.

    Returns:
        Tensor: Rotated boxes (..., 5): cx, cy, w = x2 - x1, h = y2 - y1, t = 0.
    """
    x1, y1, x2, y2 = boxes.unbind(dim=-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1,
                        torch.zeros_like(x1)], dim=-1)


def qbox2hbox(boxes: Tensor) -> Tensor:
    """Quadrilaterals (..., 8) to their horizontal bounding boxes (..., 4).

    Args:
        boxes (Tensor): Quadrilaterals (..., 8): x1, y1, ..., x4, y4.

    Returns:
        Tensor: Horizontal boxes (..., 4): x1, y1, x2, y2 (min and max of the corners).
    """
    xs, ys = boxes[..., 0::2], boxes[..., 1::2]
    return torch.stack([xs.min(-1).values, ys.min(-1).values,
                        xs.max(-1).values, ys.max(-1).values], dim=-1)


def hbox2qbox(boxes: Tensor) -> Tensor:
    """Horizontal boxes (..., 4) to quadrilaterals (..., 8), clockwise from top-left.

    Args:
        boxes (Tensor): Horizontal boxes (..., 4): x1, y1, x2, y2.

    Returns:
        Tensor: Quadrilaterals (..., 8): (x1, y1), (x2, y1), (x2, y2), (x1, y2).
    """
    x1, y1, x2, y2 = boxes.unbind(dim=-1)
    return torch.stack([x1, y1, x2, y1, x2, y2, x1, y2], dim=-1)
