"""MidpointOffsetCoder: values against a float64 reference of mmrotate's formulas, the round trip, cv2."""
import math

import cv2
import numpy as np
import pytest
import torch

from visiondiv.models.task_modules.coders import MidpointOffsetCoder
from visiondiv.models.task_modules.coders.delta_midpointoffset_rbbox_coder import midpoint_decode
from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, qbox2rbox, regularize_rboxes

STDS = (1.0, 1.0, 1.0, 1.0, 0.5, 0.5)


def corners64(box):
    """Corners of (cx, cy, w, h, t) in float64, mmrotate's order."""
    cx, cy, w, h, t = box
    c, s = math.cos(t), math.sin(t)
    out = []
    for a, b in ((0.5, 0.5), (0.5, -0.5), (-0.5, -0.5), (-0.5, 0.5)):
        out.append((cx + a * w * c - b * h * s, cy + a * w * s + b * h * c))
    return np.array(out)


def encode64(prop, gt, stds=STDS):
    """mmrotate's bbox2delta by hand, float64."""
    px, py = (prop[0] + prop[2]) / 2, (prop[1] + prop[3]) / 2
    pw, ph = prop[2] - prop[0], prop[3] - prop[1]
    pts = corners64(gt)
    x1, y1 = pts.min(0)
    x2, y2 = pts.max(0)
    gx, gy, gw, gh = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    ga = max(p[0] for p in pts if abs(p[1] - y1) <= 0.1)
    gb = max(p[1] for p in pts if abs(p[0] - x2) <= 0.1)
    d = np.array([(gx - px) / pw, (gy - py) / ph, math.log(gw / pw), math.log(gh / ph), (ga - gx) / gw,
                  (gb - gy) / gh])
    return d / np.array(stds)


def decode_cv2(rois, deltas, stds=STDS, version='le90'):
    """mmrotate's delta2bbox: the rescaled parallelogram through cv2.minAreaRect, per box, then regularised."""
    out = []
    for roi, d in zip(rois.astype(np.float64), deltas.astype(np.float64)):
        dx, dy, dw, dh, da, db = d * np.array(stds)
        px, py, pw, ph = (roi[0] + roi[2]) / 2, (roi[1] + roi[3]) / 2, roi[2] - roi[0], roi[3] - roi[1]
        r = abs(math.log(16 / 1000))
        gw, gh = pw * math.exp(np.clip(dw, -r, r)), ph * math.exp(np.clip(dh, -r, r))
        gx, gy = px + pw * dx, py + ph * dy
        da, db = np.clip(da, -0.5, 0.5), np.clip(db, -0.5, 0.5)
        poly = np.array([[gx + da * gw, gy - gh / 2], [gx + gw / 2, gy + db * gh], [gx - da * gw, gy + gh / 2],
                         [gx - gw / 2, gy - db * gh]])
        vec = poly - [gx, gy]
        lens = np.linalg.norm(vec, axis=1)
        poly = vec * (lens.max() / lens)[:, None] + [gx, gy]
        (x, y), (w, h), a = cv2.minAreaRect(poly.astype(np.float32))
        out.append([x, y, w, h, a / 180 * np.pi])
    return regularize_rboxes(torch.tensor(out, dtype=torch.float64), version)


def random_case(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 200
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 60 + 8
    rois = torch.cat([xy, xy + wh], 1)
    deltas = torch.randn(n, 6, generator=g, dtype=torch.float64) * torch.tensor([0.2, 0.2, 0.3, 0.3, 0.3, 0.3],
                                                                                  dtype=torch.float64)
    return rois, deltas


def same_rects(a, b, atol):
    """Two (n, 5) rboxes describe the same rectangles: centres, sides and corner sets agree."""
    from visiondiv.structures.bbox import rbox2qbox
    qa, qb = rbox2qbox(a.double()).view(-1, 4, 2), rbox2qbox(b.double()).view(-1, 4, 2)
    dist = (qa[:, :, None] - qb[:, None]).norm(dim=-1).min(-1).values.max()
    return float(dist) <= atol


def test_registry_and_args():
    coder = TASK_UTILS.build(dict(type='MidpointOffsetCoder', angle_version='le90', target_stds=STDS))
    assert isinstance(coder, MidpointOffsetCoder) and coder.encode_size == 6
    with pytest.raises(ValueError, match='angle'):
        MidpointOffsetCoder(angle_version='le45')
    with pytest.raises(ValueError, match='6 values'):
        MidpointOffsetCoder(target_means=(0., ) * 5)


def test_encode_matches_float64_reference():
    coder = MidpointOffsetCoder(angle_version='le90', target_stds=STDS)
    g = torch.Generator().manual_seed(1)
    props = torch.tensor([[10., 20., 50., 40.], [0., 0., 100., 30.], [5., 5., 25., 45.]])
    gts = torch.tensor([[30., 28., 40., 10., 0.3], [52., 14., 80., 20., -1.2], [15., 24., 30., 12., 1.0]])
    gts = torch.cat([gts, torch.cat([torch.rand(20, 2, generator=g) * 100 + 20, torch.rand(20, 2, generator=g) * 40
                                     + 5, (torch.rand(20, 1, generator=g) - 0.5) * math.pi], 1)])
    props = torch.cat([props, torch.cat([gts[3:, :2] - 15, gts[3:, :2] + 15], 1)])
    deltas = coder.encode(props, RotatedBoxes(gts))
    ref = np.stack([encode64(p.double().numpy(), regularize_rboxes(gt[None].double(), 'le90')[0].numpy())
                    for p, gt in zip(props, gts)])
    assert deltas.dtype == torch.float32 and deltas.shape == (len(gts), 6)
    np.testing.assert_allclose(deltas.numpy(), ref, atol=2e-5, rtol=1e-5)
    # a horizontal box on its own envelope: no offset from the envelope, corner at the right end (da = 1/2)
    d = coder.encode(torch.tensor([[0., 0., 40., 20.]]), torch.tensor([[20., 10., 40., 20., 0.]]))
    torch.testing.assert_close(d, torch.tensor([[0., 0., 0., 0., 0.5 / 0.5, 0.5 / 0.5]]))


@pytest.mark.parametrize('version', ['oc', 'le90', 'le135'])
def test_round_trip(version):
    """Decoding the encoding of a rectangle gives the rectangle back (its midpoint polygon is itself).

    Except for nearly axis-aligned boxes: mmrotate takes corners within 0.1 px of the envelope's edge as on it,
    so a box tilted by less than that is encoded as its envelope (lossy, as in mmrotate); tested apart.
    """
    coder = MidpointOffsetCoder(angle_version=version, target_stds=STDS)
    g = torch.Generator().manual_seed(2)
    n = 200
    gts = torch.cat([torch.rand(n, 2, generator=g) * 300, torch.rand(n, 2, generator=g) * 60 + 4,
                     (torch.rand(n, 1, generator=g) - 0.5) * math.pi * 2], 1).double()
    tilt = torch.remainder(gts[:, 4], math.pi / 2)
    gts = gts[(tilt > 0.05) & (tilt < math.pi / 2 - 0.05)]
    props = torch.cat([gts[:, :2] - 20, gts[:, :2] + 25], 1)
    decoded = coder.decode(props, coder.encode(props, gts.float()).double())
    assert isinstance(decoded, RotatedBoxes) and len(gts) > 150
    assert same_rects(decoded.tensor, gts, atol=1e-4)   # the encoding is fp32
    # tilted by 1e-3 rad: corners 0.03 px from the edge count as on it, the envelope comes back
    tiny = torch.tensor([[50., 40., 30., 10., 1e-3]])
    back = coder.decode(props[:1], coder.encode(props[:1], tiny)).tensor
    env = torch.tensor([[50., 40., 30. * math.cos(1e-3) + 10 * math.sin(1e-3),
                         30. * math.sin(1e-3) + 10 * math.cos(1e-3), 0.]])
    assert same_rects(back, env, atol=1e-3)
    torch.testing.assert_close(decoded.tensor, regularize_rboxes(decoded.tensor, version))


def test_decode_matches_cv2_min_area_rect():
    """The closed form equals mmrotate's per-box cv2.minAreaRect + regularize_boxes on random deltas."""
    rois, deltas = random_case(500)
    ours = midpoint_decode(rois, deltas, stds=STDS, angle_version='le90')
    ref = decode_cv2(rois.numpy(), deltas.numpy())
    # cv2 works in float32: 1e-3 px; angles agree except where a near-square flips w/h
    assert same_rects(ours, ref, atol=5e-3)
    ratio = ref[:, 2] / ref[:, 3]
    clear = (ratio > 1.01) & ((ref[:, 4].abs() - math.pi / 2).abs() > 1e-3)
    assert int(clear.sum()) > 400
    torch.testing.assert_close(ours[clear], ref[clear], atol=5e-3, rtol=1e-4)
    # and equals the general vectorised qbox2rbox (6 hull directions) on the same rectangles
    from visiondiv.structures.bbox import rbox2qbox
    torch.testing.assert_close(qbox2rbox(rbox2qbox(ours), 'le90')[clear], ours[clear], atol=1e-6, rtol=1e-6)


def test_decode_shapes_dtypes_and_clamps():
    coder = MidpointOffsetCoder(angle_version='le90', use_box_type=False)
    rois = torch.tensor([[0., 0., 10., 10.]])
    # k boxes per roi (per class), and a batch dimension
    rois2, deltas = random_case(7)
    out = coder.decode(rois2, deltas.repeat(1, 3))
    assert out.shape == (7, 15)
    torch.testing.assert_close(out[:, 5:10], out[:, :5])
    batched = midpoint_decode(rois2[None].repeat(2, 1, 1), deltas[None].repeat(2, 1, 1))
    assert batched.shape == (2, 7, 5)
    assert coder.decode(torch.zeros(0, 4), torch.zeros(0, 6)).shape == (0, 5)
    # half input decodes in fp32; huge dw is clamped to log(1000/16); da beyond 1/2 is clamped
    big = coder.decode(rois, torch.tensor([[0., 0., 100., 0., 0.5, 0.5]]).half())
    assert big.dtype == torch.float32
    assert math.isclose(float(big[0, 2]), 10 * 1000 / 16, rel_tol=1e-4)
    a = coder.decode(rois, torch.tensor([[0., 0., 0., 0., 0.9, 0.]]))
    b = coder.decode(rois, torch.tensor([[0., 0., 0., 0., 0.5, 0.]]))
    torch.testing.assert_close(a, b)
    # da = db = 0: the diamond (rescaled, a square turned 45 degrees) of side 10 / sqrt(2)
    d = coder.decode(rois, torch.zeros(1, 6))
    torch.testing.assert_close(d[0, 2:4], torch.full((2,), 10 / math.sqrt(2)))
    assert math.isclose(abs(float(d[0, 4])), math.pi / 4, abs_tol=1e-6)
    # zero-size rois give finite boxes
    assert torch.isfinite(coder.decode(torch.zeros(1, 4), torch.zeros(1, 6))).all()
    with pytest.raises(ValueError, match='RotatedBoxes'):
        MidpointOffsetCoder().decode(rois, torch.zeros(1, 12))
    with pytest.raises(ValueError, match=r'\(n, 6k\)'):
        coder.decode(rois, torch.zeros(1, 5))
