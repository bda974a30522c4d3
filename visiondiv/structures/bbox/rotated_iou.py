"""Differentiable IoU of aligned rotated-box pairs, in plain torch (CPU and GPU).

mmcv's ``diff_iou_rotated_2d`` has a CUDA kernel only and its ``box_iou_rotated`` has no
gradient. Here the intersection of two rectangles is computed exactly, for all pairs at once:
its vertices are among 24 candidates per pair (the corners of each box inside the other and
the 16 edge-edge crossings); the valid ones are ordered by angle around their centroid and
the shoelace formula gives the area. The order is found without gradient (it is piecewise
constant); the area is differentiable in the vertex coordinates.

Boundary cases are decided with a tolerance of a few ulps of the boxes' size, so that shared
edges and corners (identical boxes, a square turned by 90 degrees, touching boxes) are found
despite rounding, and a vertex found several ways is kept once. Parallel edges have no
crossing; no division can be by zero, so gradients stay finite on degenerate input (identical,
zero-size, collinear, touching or disjoint boxes).
"""
from typing import Tuple

import torch
from torch import Tensor

from .transforms import rbox2qbox

#: a boundary decision tolerates this many machine epsilons, relative to the boxes' size
_ULPS = 64


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """Half precision cannot place vertices: fp16/bf16 are computed in fp32."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _cross(a: Tensor, b: Tensor) -> Tensor:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _inside(points: Tensor, boxes: Tensor, tol: Tensor) -> Tensor:
    """Whether each of ``points`` (n, k, 2) lies in its box (n, 5), boundary within ``tol`` (n,) included."""
    d = points - boxes[:, None, :2]
    cos, sin = torch.cos(boxes[:, None, 4]), torch.sin(boxes[:, None, 4])
    along_w = (d[..., 0] * cos + d[..., 1] * sin).abs()
    along_h = (-d[..., 0] * sin + d[..., 1] * cos).abs()
    return (along_w <= boxes[:, None, 2] / 2 + tol[:, None]) & (along_h <= boxes[:, None, 3] / 2 + tol[:, None])


def _edge_crossings(corners1: Tensor, corners2: Tensor, tol: Tensor, rel: float) -> Tuple[Tensor, Tensor]:
    """Crossings of every edge of box 1 with every edge of box 2: points (n, 16, 2) and validity (n, 16)."""
    a = corners1[:, :, None]                                         # (n, 4, 1, 2)
    da = (corners1.roll(-1, dims=1) - corners1)[:, :, None]
    b = corners2[:, None]                                            # (n, 1, 4, 2)
    db = (corners2.roll(-1, dims=1) - corners2)[:, None]
    den = _cross(da, db)
    with torch.no_grad():
        len_a, len_b = (da * da).sum(-1), (db * db).sum(-1)
        tol2 = (tol * tol)[:, None, None]
        # parallel (|sin| <= rel) or zero-length edges never cross: their shared points are corners
        parallel = (den * den <= rel * rel * len_a * len_b) | (len_a <= tol2) | (len_b <= tol2)
    den = torch.where(parallel, torch.ones_like(den), den)
    r = b - a
    t = _cross(r, db) / den                                          # position along the edge of box 1
    u = _cross(r, da) / den                                          # and along the edge of box 2
    with torch.no_grad():
        valid = ~parallel & (t >= -rel) & (t <= 1 + rel) & (u >= -rel) & (u <= 1 + rel)
    points = a + t[..., None] * da
    return points.flatten(1, 2), valid.flatten(1, 2)


def _first_of_each_location(points: Tensor, valid: Tensor, tol: Tensor) -> Tensor:
    """``valid`` without the points that an earlier valid point (n, k, 2) already has within ``tol`` (n,).

    A vertex found several ways (a corner on the other box's edge is also an edge crossing) is kept
    once, from its first construction, so that on degenerate input (identical or touching boxes)
    the polygon is made of one box's points and its gradient is a one-sided derivative.
    """
    tol = tol[:, None, None]
    x, y = points[..., 0], points[..., 1]
    near = ((x[:, :, None] - x[:, None]).abs() <= tol) & ((y[:, :, None] - y[:, None]).abs() <= tol)
    near &= valid[:, :, None] & valid[:, None]
    earlier = torch.ones(near.shape[1:], dtype=torch.bool, device=near.device).tril(-1)
    return valid & ~(near & earlier).any(-1)


def _convex_area(points: Tensor, valid: Tensor) -> Tensor:
    """Area (n,) of the convex polygon whose vertices are the valid ones of ``points`` (n, k, 2), in any order."""
    with torch.no_grad():
        weight = valid.to(points.dtype)[..., None]
        centroid = (points * weight).sum(1, keepdim=True) / weight.sum(1, keepdim=True).clamp(min=1)
        rel = points - centroid
        angle = torch.atan2(rel[..., 1], rel[..., 0])
        # invalid points go last (atan2 is at most pi)
        order = torch.where(valid, angle, torch.full_like(angle, 4.0)).argsort(dim=1)
    ordered = points.gather(1, order[..., None].expand_as(points))
    ordered_valid = valid.gather(1, order)
    # the invalid tail repeats the first vertex: its edges have zero length and add no area
    ordered = torch.where(ordered_valid[..., None], ordered, ordered[:, :1])
    following = ordered.roll(-1, dims=1)
    return (_cross(ordered, following).sum(1) / 2).clamp(min=0)


def rotated_box_intersection(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection areas of aligned rotated-box pairs (differentiable).

    Args:
        boxes1 (Tensor): (..., 5) boxes (cx, cy, w, h, t), t in radians; negative sides count as 0.
        boxes2 (Tensor): (..., 5) boxes of the same shape.

    Returns:
        Tensor: (...) areas, in the boxes' dtype (computed in fp32 for fp16/bf16 input).
    """
    if boxes1.shape != boxes2.shape or boxes1.shape[-1:] != (5,):
        raise ValueError(f'rotated_box_intersection needs two (..., 5) box tensors of one shape, got '
                         f'{tuple(boxes1.shape)} and {tuple(boxes2.shape)}')
    out_dtype, dtype = boxes1.dtype, _work_dtype(boxes1.dtype)
    shape = boxes1.shape[:-1]
    b1, b2 = boxes1.reshape(-1, 5).to(dtype), boxes2.reshape(-1, 5).to(dtype)
    if b1.shape[0] == 0:
        return (b1.sum() * 0 + b2.sum() * 0).expand(shape).to(out_dtype)
    # about the first centre: the area does not move, and rounding is that of the box sizes
    origin = b1[:, :2].detach()
    b1 = torch.cat([b1[:, :2] - origin, b1[:, 2:4].clamp(min=0), b1[:, 4:]], dim=1)
    b2 = torch.cat([b2[:, :2] - origin, b2[:, 2:4].clamp(min=0), b2[:, 4:]], dim=1)
    corners1, corners2 = rbox2qbox(b1).view(-1, 4, 2), rbox2qbox(b2).view(-1, 4, 2)
    rel = _ULPS * torch.finfo(dtype).eps
    with torch.no_grad():
        size = torch.cat([b1[:, 2:4], b2[:, 2:4], b2[:, :2].abs()], dim=1).amax(1)
        tol = rel * size.clamp(min=torch.finfo(dtype).tiny)
        in2 = _inside(corners1, b2, tol)
        in1 = _inside(corners2, b1, tol)
    crossings, crossing_valid = _edge_crossings(corners1, corners2, tol, rel)
    points = torch.cat([corners1, corners2, crossings], dim=1)
    with torch.no_grad():
        valid = _first_of_each_location(points, torch.cat([in2, in1, crossing_valid], dim=1), tol)
    return _convex_area(points, valid).reshape(shape).to(out_dtype)


def rotated_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-12) -> Tensor:
    """IoU of aligned rotated-box pairs, differentiable, on any device.

    Equals ``mmcv.ops.box_iou_rotated(boxes1, boxes2, aligned=True)`` (and, on CUDA,
    ``mmcv.ops.diff_iou_rotated_2d``) and has finite gradients everywhere, zero-size and
    disjoint boxes included (IoU 0 there). Edges collinear up to rounding are exact here; mmcv's
    fp32 op can miss vertices there (a 1 x 5 box at angle -pi against a 2 x 1 box at pi/2
    inside it: 0.2727 instead of 0.4).

    Args:
        boxes1 (Tensor): (..., 5) boxes (cx, cy, w, h, t), t in radians; negative sides count as 0.
        boxes2 (Tensor): (..., 5) boxes of the same shape.
        eps (float): smallest union, so that two zero-size boxes give 0, not 0/0. Defaults to 1e-12.

    Returns:
        Tensor: (...) IoU in [0, 1], in the boxes' dtype (computed in fp32 for fp16/bf16 input).

    Raises:
        ValueError: boxes of different shapes, or whose last dim is not 5.
    """
    out_dtype, dtype = boxes1.dtype, _work_dtype(boxes1.dtype)
    b1, b2 = boxes1.to(dtype), boxes2.to(dtype)
    inter = rotated_box_intersection(b1, b2)
    area1 = b1[..., 2].clamp(min=0) * b1[..., 3].clamp(min=0)
    area2 = b2[..., 2].clamp(min=0) * b2[..., 3].clamp(min=0)
    union = (area1 + area2 - inter).clamp(min=eps)
    return (inter / union).clamp(0, 1).to(out_dtype)
