import math

import numpy as np
import pytest
import torch

from visiondiv.structures.bbox import rbbox_overlaps
from visiondiv.structures.bbox.bbox_overlaps import fake_rbbox_overlaps


def corners(box):
    """Counter-clockwise corners of a rotated box, float64."""
    x, y, w, h, t = [float(v) for v in box]
    c, s = math.cos(t), math.sin(t)
    local = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [(x + c * u - s * v, y + s * u + c * v) for u, v in local]


def area(poly):
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1])))


def clip(subject, clipper):
    """Sutherland-Hodgman: the part of convex ``subject`` inside convex counter-clockwise ``clipper``."""
    out = subject
    for (ax, ay), (bx, by) in zip(clipper, clipper[1:] + clipper[:1]):
        if not out:
            break
        def side(p):
            return (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)
        pts, out = out, []
        for p, q in zip(pts, pts[1:] + pts[:1]):
            sp, sq = side(p), side(q)
            if sp >= 0:
                out.append(p)
            if sp * sq < 0:
                r = sp / (sp - sq)
                out.append((p[0] + r * (q[0] - p[0]), p[1] + r * (q[1] - p[1])))
    return out


def reference_iou(box1, box2):
    """Rotated IoU in float64 by polygon clipping, independent of mmcv."""
    p1, p2 = corners(box1), corners(box2)
    inter = area(clip(p1, p2)) if len(clip(p1, p2)) >= 3 else 0.0
    return inter / (area(p1) + area(p2) - inter)


def clamp_like_mmrotate(boxes):
    """mmrotate's rbbox_overlaps input: centre to +-1e7, sides to >= 1e-3 (float64)."""
    out = boxes.double().clone()
    out[:, :2] = out[:, :2].clamp(-1e7, 1e7)
    out[:, 2:4] = out[:, 2:4].clamp(min=1e-3)
    return out


# Pairs with centres between 1e8 and 1e9 for which mmcv's box_iou_rotated returns 186.8, 2563.9 and
# 1.9e5 (unclamped, this machine); each pair clamps to two concentric boxes at (1e7, 1e7).
HUGE1 = torch.tensor([[5.7231e8, 1.9024e8, 0.3924, 0.3097, 0.3791],
                      [4.8152e8, 2.0191e8, 4.006, 5.255, 0.9539],
                      [1.2530e8, 2.6405e8, 0.004636, 0.003430, 0.3578]])
HUGE2 = torch.tensor([[2.9963e8, 1.4664e8, 184.09, 32.854, 1.4491],
                      [2.2679e8, 2.7873e8, 53.520, 609.71, 0.5325],
                      [1.0966e8, 3.8574e8, 286.97, 749.49, 0.6232]])


def test_huge_centres_give_the_iou_of_the_clamped_boxes():
    from mmcv.ops import box_iou_rotated
    assert not bool(((box_iou_rotated(HUGE1, HUGE2) >= 0) & (box_iou_rotated(HUGE1, HUGE2) <= 1)).all())
    iou = rbbox_overlaps(HUGE1, HUGE2)
    assert torch.isfinite(iou).all() and bool(((iou >= 0) & (iou <= 1)).all())
    a, b = clamp_like_mmrotate(HUGE1), clamp_like_mmrotate(HUGE2)
    expected = torch.tensor([[reference_iou(p, q) for q in b] for p in a], dtype=torch.float64)
    torch.testing.assert_close(iou.double(), expected, rtol=0, atol=1e-5)
    aligned = rbbox_overlaps(HUGE1, HUGE2, is_aligned=True)
    torch.testing.assert_close(aligned.double(), expected.diagonal(), rtol=0, atol=1e-5)


def test_huge_centres_closed_form():
    # both clamp to (1e7, 1e7): a 4x2 box crossed with the same box turned 90 degrees, IoU 4/12;
    # a centre at -5e8 clamps to -1e7, 2e7 away: IoU 0
    a = torch.tensor([[5e8, 5e8, 4.0, 2.0, 0.0]])
    b = torch.tensor([[2e8, 3e8, 4.0, 2.0, math.pi / 2], [-5e8, 5e8, 4.0, 2.0, 0.0]])
    torch.testing.assert_close(rbbox_overlaps(a, b), torch.tensor([[1 / 3, 0.0]]), rtol=0, atol=1e-6)
    # the envelope IoU clamps its (cx, cy, w, h) the same way (mmrotate's fake_rbbox_overlaps): 64x32
    # against 32x64 at (1e7, 1e7), 1/3. (Centres where fp32 still holds the envelope's corners exactly:
    # at 5e8 its spacing is 32 and a 4x2 envelope collapses, in mmrotate as here.)
    a = torch.tensor([[3e7, 5e7, 64.0, 32.0, 0.0]])
    b = torch.tensor([[6e7, 4e7, 64.0, 32.0, math.pi / 2], [-3e7, 5e7, 64.0, 32.0, 0.0]])
    torch.testing.assert_close(fake_rbbox_overlaps(a, b), torch.tensor([[1 / 3, 0.0]]), rtol=0, atol=1e-6)


def test_huge_centres_on_the_sparse_path():
    # 70 x 70 pairs take the candidate-pair path; the clamp must come before the envelopes it uses
    from mmcv.ops import box_iou_rotated
    g = torch.Generator().manual_seed(0)
    n = 70
    sign = torch.randint(0, 2, (n, 2), generator=g) * 2 - 1
    centre = sign * 10 ** (8 + torch.rand(n, 2, generator=g))
    boxes = torch.cat([centre, torch.rand(n, 2, generator=g) * 50 + 1, torch.rand(n, 1, generator=g) * 3], 1)
    iou = rbbox_overlaps(boxes, boxes)
    assert bool(((iou >= 0) & (iou <= 1 + 1e-6)).all())      # fp32: a self-IoU can read 1 + 1 ulp
    torch.testing.assert_close(iou, box_iou_rotated(clamp_like_mmrotate(boxes).float(),
                                                    clamp_like_mmrotate(boxes).float()), rtol=0, atol=1e-6)
    # boxes clamped to different corners of the +-1e7 square never overlap
    corner = centre.sign()
    different = (corner[:, None] != corner[None]).any(-1)
    assert different.any() and (iou[different] == 0).all()


@pytest.mark.parametrize('seed', [0, 1])
def test_ordinary_boxes_unchanged(seed):
    # below 1e7 nothing is clamped: the float64 polygon reference
    g = np.random.default_rng(seed)
    a = torch.tensor(np.c_[g.uniform(0, 40, (6, 2)), g.uniform(5, 30, (6, 2)), g.uniform(-3, 3, 6)],
                     dtype=torch.float32)
    b = a.clone()
    b[:, :2] += torch.tensor(g.normal(0, 4, (6, 2)), dtype=torch.float32)
    b[:, 4] += 0.3
    expected = torch.tensor([[reference_iou(p, q) for q in b] for p in a], dtype=torch.float64)
    torch.testing.assert_close(rbbox_overlaps(a, b).double(), expected, rtol=0, atol=1e-5)
