"""Differentiable rotated IoU (visiondiv/structures/bbox/rotated_iou.py) against mmcv, closed forms and a
float64 polygon-clipping reference; finite gradients on degenerate input."""
import math

import pytest
import torch
from mmcv.ops import box_iou_rotated

from visiondiv.structures.bbox import rotated_iou
from visiondiv.structures.bbox.rotated_iou import rotated_box_intersection

SQRT2 = math.sqrt(2)


def _corners(box):
    """Counter-clockwise corners of (cx, cy, w, h, t), in plain Python floats."""
    x, y, w, h, t = map(float, box)
    c, s = math.cos(t), math.sin(t)
    return [(x + c * u - s * v, y + s * u + c * v)
            for u, v in ((w / 2, h / 2), (-w / 2, h / 2), (-w / 2, -h / 2), (w / 2, -h / 2))]


def reference_iou(box1, box2):
    """Sutherland-Hodgman: clip box 1 by the four half-planes of box 2, then the shoelace area (float64)."""
    poly, clipper = _corners(box1), _corners(box2)
    for i in range(4):
        a, b = clipper[i], clipper[(i + 1) % 4]

        def side(p):
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

        out = []
        for j, p in enumerate(poly):
            q = poly[(j + 1) % len(poly)]
            sp, sq = side(p), side(q)
            if sp >= 0:
                out.append(p)
            if (sp >= 0) != (sq >= 0):
                f = sp / (sp - sq)
                out.append((p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1])))
        poly = out
    inter = abs(sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(poly, poly[1:] + poly[:1]))) / 2 if poly else 0.0
    return inter / (box1[2] * box1[3] + box2[2] * box2[3] - inter)


def random_pairs(n, seed, span=1024.0):
    """Overlapping and disjoint pairs: sides 1..148 px (aspect up to ~150), any angle."""
    g = torch.Generator().manual_seed(seed)
    wh = torch.exp(torch.rand(n, 2, generator=g) * 5)
    b1 = torch.cat([torch.rand(n, 2, generator=g) * span, wh, (torch.rand(n, 1, generator=g) - 0.5) * 2 * math.pi], 1)
    shift = torch.randn(n, 2, generator=g) * wh.mean(1, keepdim=True) / 2
    b2 = torch.cat([b1[:, :2] + shift, wh * (0.5 + torch.rand(n, 2, generator=g)),
                    b1[:, 4:] + torch.randn(n, 1, generator=g)], 1)
    return b1, b2


def test_equals_mmcv_box_iou_rotated_on_random_pairs():
    b1, b2 = random_pairs(5000, 0)
    expected = box_iou_rotated(b1, b2, aligned=True)
    assert 0.5 < (expected > 0).float().mean() < 1      # both overlapping and disjoint pairs
    torch.testing.assert_close(rotated_iou(b1, b2), expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(rotated_iou(b1.double(), b2.double()), expected.double(), rtol=0, atol=1e-5)


def test_equals_float64_clipping_reference():
    # mmcv's op is fp32; this reference checks the float64 path to 1e-9
    b1, b2 = random_pairs(300, 1, span=50.0)
    b1, b2 = b1.double(), b2.double()
    expected = torch.tensor([reference_iou(p.tolist(), q.tolist()) for p, q in zip(b1, b2)], dtype=torch.float64)
    torch.testing.assert_close(rotated_iou(b1, b2), expected, rtol=0, atol=1e-9)


CLOSED_FORMS = {
    'identical': ([10.0, 20.0, 30.0, 12.0, 0.7], [10.0, 20.0, 30.0, 12.0, 0.7], 1.0),
    'disjoint': ([0.0, 0.0, 2.0, 2.0, 0.3], [10.0, 10.0, 2.0, 2.0, 0.3], 0.0),
    'square_turned_90': ([5.0, 7.0, 4.0, 4.0, 0.2], [5.0, 7.0, 4.0, 4.0, 0.2 + math.pi / 2], 1.0),
    'rectangle_turned_180': ([5.0, 7.0, 8.0, 2.0, 0.4], [5.0, 7.0, 8.0, 2.0, 0.4 + math.pi], 1.0),
    # [0, 4] x [0, 2] and [1, 5] x [1, 4]: 3 / (8 + 12 - 3)
    'axis_aligned': ([2.0, 1.0, 4.0, 2.0, 0.0], [3.0, 2.5, 4.0, 3.0, 0.0], 3 / 17),
    # a regular octagon: a^2 (2 sqrt2 - 2) over a^2 (4 - 2 sqrt2)
    'square_turned_45': ([5.0, 7.0, 4.0, 4.0, 0.0], [5.0, 7.0, 4.0, 4.0, math.pi / 4], 1 / SQRT2),
    # collinear bottom and top edges: [0, 2] x [0, 1] and [1, 3] x [0, 1]
    'collinear_edges': ([1.0, 0.5, 2.0, 1.0, 0.0], [2.0, 0.5, 2.0, 1.0, 0.0], 1 / 3),
    # a 1 x 2 box (2 x 1 turned by 90 degrees) inside a 1 x 5 one, sharing both long edges
    'inside_sharing_edges': ([0.5, 0.0, 1.0, 5.0, 0.0], [0.5, 0.0, 2.0, 1.0, math.pi / 2], 0.4),
    'contained': ([0.0, 0.0, 10.0, 10.0, 0.3], [1.0, 1.0, 2.0, 3.0, 1.1], 6 / 100),
    'touching_edge': ([0.5, 0.5, 1.0, 1.0, 0.0], [1.5, 0.5, 1.0, 1.0, 0.0], 0.0),
    'touching_corner': ([0.0, 0.0, 2.0, 2.0, 0.0], [2.0, 2.0, 2.0, 2.0, 0.0], 0.0),
}


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('name', sorted(CLOSED_FORMS))
def test_closed_forms(name, dtype):
    box1, box2, expected = CLOSED_FORMS[name]
    iou = rotated_iou(torch.tensor([box1], dtype=dtype), torch.tensor([box2], dtype=dtype))
    atol = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(iou, torch.tensor([expected], dtype=dtype), rtol=0, atol=atol)


def test_intersection_area_closed_form_and_shapes():
    # the octagon of a 4 x 4 square and its 45-degree turn: 16 (2 sqrt2 - 2); any leading shape
    square = torch.tensor([5.0, 7.0, 4.0, 4.0, 0.0], dtype=torch.float64)
    turned = torch.tensor([5.0, 7.0, 4.0, 4.0, math.pi / 4], dtype=torch.float64)
    area = rotated_box_intersection(square.expand(2, 3, 5), turned.expand(2, 3, 5))
    torch.testing.assert_close(area, torch.full((2, 3), 16 * (2 * SQRT2 - 2), dtype=torch.float64))
    assert rotated_iou(torch.zeros(0, 5), torch.zeros(0, 5)).shape == (0,)
    with pytest.raises(ValueError, match=r'\(\.\.\., 5\)'):
        rotated_iou(torch.zeros(3, 5), torch.zeros(2, 5))


def test_gradient_equals_finite_differences():
    b1 = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.3], [0.0, 0.0, 5.0, 5.0, 0.1], [3.0, 4.0, 10.0, 2.0, -1.2],
                       [0.0, 0.0, 10.0, 10.0, 0.3]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([[12.0, 11.0, 6.0, 5.0, -0.4], [1.0, 2.0, 4.0, 3.0, 0.9], [4.0, 3.0, 3.0, 7.0, 0.5],
                       [1.0, 1.0, 2.0, 3.0, 1.1]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rotated_iou, (b1, b2))


def test_gradient_of_analytic_case():
    # box 1 = [0, 4] x [0, 2], box 2 = [1, 5] x [1, 4]: overlap 3 x 1, I = 3, U = 8 + 12 - I = 17.
    # dI/d(cx, cy, w, h) = (ov_y, ov_x, ov_y / 2, ov_x / 2); dU = d(w h) - dI; dIoU = (dI U - I dU) / U^2
    b1 = torch.tensor([[2.0, 1.0, 4.0, 2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([[3.0, 2.5, 4.0, 3.0, 0.0]], dtype=torch.float64)
    rotated_iou(b1, b2).sum().backward()
    i, u = 3.0, 17.0
    d_i = torch.tensor([1.0, 3.0, 0.5, 1.5], dtype=torch.float64)
    d_area1 = torch.tensor([0.0, 0.0, 2.0, 4.0], dtype=torch.float64)
    torch.testing.assert_close(b1.grad[0, :4], (d_i * u - i * (d_area1 - d_i)) / u ** 2)


DEGENERATE = {
    'identical': ([10.0, 20.0, 30.0, 12.0, 0.7], [10.0, 20.0, 30.0, 12.0, 0.7]),
    'zero_size': ([0.5, 0.5, 0.0, 0.0, 0.0], [0.5, 0.5, 1.0, 1.0, 0.0]),
    'both_zero_size': ([0.5, 0.5, 0.0, 0.0, 0.3], [0.5, 0.5, 0.0, 0.0, 0.3]),
    'zero_width': ([0.5, 0.5, 0.0, 1.0, 0.3], [0.5, 0.5, 1.0, 1.0, 0.0]),
    'collinear_edges': ([1.0, 0.5, 2.0, 1.0, 0.0], [2.0, 0.5, 2.0, 1.0, 0.0]),
    'touching_edge': ([0.5, 0.5, 1.0, 1.0, 0.0], [1.5, 0.5, 1.0, 1.0, 0.0]),
    'touching_corner': ([0.0, 0.0, 2.0, 2.0, 0.0], [2.0, 2.0, 2.0, 2.0, 0.0]),
    'disjoint': ([0.0, 0.0, 2.0, 2.0, 0.3], [10.0, 10.0, 2.0, 2.0, 0.3]),
    'square_turned_90': ([5.0, 7.0, 4.0, 4.0, 0.2], [5.0, 7.0, 4.0, 4.0, 0.2 + math.pi / 2]),
}


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_degenerate_input_has_finite_gradients(dtype):
    pairs = list(DEGENERATE.values())
    b1 = torch.tensor([p[0] for p in pairs], dtype=dtype, requires_grad=True)
    b2 = torch.tensor([p[1] for p in pairs], dtype=dtype, requires_grad=True)
    iou = rotated_iou(b1, b2)
    assert iou.dtype == dtype and bool(torch.isfinite(iou).all())
    (-iou.float().clamp(min=1e-6).log()).sum().backward()
    assert bool(torch.isfinite(b1.grad).all()) and bool(torch.isfinite(b2.grad).all())
    names = list(DEGENERATE)
    # no overlap and no way to overlap by an infinitesimal move: zero gradient
    for name in ('disjoint', 'zero_size', 'both_zero_size'):
        k = names.index(name)
        assert b1.grad[k].abs().sum() == 0 and b2.grad[k].abs().sum() == 0


def test_degenerate_gradients_are_one_sided_derivatives():
    # touching along an edge: IoU(dx) = max(dx, 0) / 2, so any derivative in [0, 1/2] is a one-sided one
    b1 = torch.tensor([[0.5, 0.5, 1.0, 1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([[1.5, 0.5, 1.0, 1.0, 0.0]], dtype=torch.float64)
    rotated_iou(b1, b2).sum().backward()
    assert 0 <= b1.grad[0, 0] <= 0.5
    # collinear edges, [0, 2] x [0, 1] and [1, 3] x [0, 1]: moving box 1 right gives (1 + dx) / (3 - dx)
    b1 = torch.tensor([[1.0, 0.5, 2.0, 1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    rotated_iou(b1, torch.tensor([[2.0, 0.5, 2.0, 1.0, 0.0]], dtype=torch.float64)).sum().backward()
    torch.testing.assert_close(b1.grad[0, 0].item(), 4 / 9)


def test_half_precision_is_computed_in_fp32():
    b1, b2 = random_pairs(200, 2, span=100.0)
    expected = rotated_iou(b1.half().float(), b2.half().float())
    got = rotated_iou(b1.half(), b2.half())
    assert got.dtype == torch.float16
    # only the output is rounded to fp16 (spacing 2^-11 below 1)
    torch.testing.assert_close(got.float(), expected, rtol=0, atol=2 ** -11)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA (mmcv.ops.diff_iou_rotated_2d)')
def test_cuda_equals_mmcv_ops():
    from mmcv.ops import diff_iou_rotated_2d
    b1, b2 = random_pairs(5000, 3)
    b1, b2 = b1.cuda(), b2.cuda()
    ours = rotated_iou(b1, b2)
    assert ours.is_cuda
    torch.testing.assert_close(ours, box_iou_rotated(b1, b2, aligned=True), rtol=0, atol=1e-5)
    torch.testing.assert_close(ours, diff_iou_rotated_2d(b1[None], b2[None])[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(ours.cpu(), rotated_iou(b1.cpu(), b2.cpu()), rtol=0, atol=1e-5)
