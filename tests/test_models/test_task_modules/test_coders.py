import math

import pytest
import torch

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, hbox2rbox, regularize_rboxes


def rboxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([torch.rand(n, 2, generator=g) * 300, torch.rand(n, 2, generator=g) * 60 + 5,
                      (torch.rand(n, 1, generator=g) - 0.5) * 3], 1).double()


@pytest.mark.parametrize('version', ['oc', 'le90', 'le135'])
@pytest.mark.parametrize('edge_swap,proj_xy', [(False, False), (True, True), (True, False)])
def test_rbbox_coder_roundtrip(version, edge_swap, proj_xy):
    coder = TASK_UTILS.build(dict(type='DeltaXYWHTRBBoxCoder', angle_version=version, edge_swap=edge_swap,
                                  proj_xy=proj_xy, target_stds=(0.1, 0.1, 0.2, 0.2, 0.1), use_box_type=True))
    anchors = regularize_rboxes(rboxes(200, 0), version)
    gts = rboxes(200, 1)
    deltas = coder.encode(RotatedBoxes(anchors), RotatedBoxes(gts))
    decoded = coder.decode(RotatedBoxes(anchors), deltas.double(), wh_ratio_clip=1e-6)
    assert isinstance(decoded, RotatedBoxes)
    # the decoded box is the same rectangle as the ground truth
    a = regularize_rboxes(decoded.tensor, 'le90')
    b = regularize_rboxes(gts, 'le90')
    d = a - b
    d[:, 4] = torch.remainder(d[:, 4] + math.pi / 2, math.pi) - math.pi / 2
    assert d.abs().max() < 1e-3


def test_rbbox_coder_known_deltas():
    # anchor (0,0,10,5,0), target shifted by (2,1), twice the size, turned by 0.3
    coder = TASK_UTILS.build(dict(type='DeltaXYWHTRBBoxCoder', angle_version='le90', use_box_type=False))
    d = coder.encode(torch.tensor([[0.0, 0, 10, 5, 0]]), torch.tensor([[2.0, 1, 20, 10, 0.3]]))
    torch.testing.assert_close(d, torch.tensor([[0.2, 0.2, math.log(2), math.log(2), 0.3]]))
    # proj_xy: the shift is measured in the anchor's frame
    proj = TASK_UTILS.build(dict(type='DeltaXYWHTRBBoxCoder', angle_version='le90', proj_xy=True))
    d = proj.encode(torch.tensor([[0.0, 0, 10, 5, math.pi / 2]]), torch.tensor([[0.0, 3, 10, 5, math.pi / 2]]))
    torch.testing.assert_close(d[0, :2], torch.tensor([0.3, 0.0]), atol=1e-6, rtol=0)
    # edge_swap picks the smaller angle delta with w/h exchanged
    swap = TASK_UTILS.build(dict(type='DeltaXYWHTRBBoxCoder', angle_version='le90', edge_swap=True))
    d = swap.encode(torch.tensor([[0.0, 0, 10, 5, 0.0]]), torch.tensor([[0.0, 0, 5, 10, 1.5]]))
    torch.testing.assert_close(d[0, 4], torch.tensor(1.5 - math.pi / 2), atol=1e-6, rtol=0)
    torch.testing.assert_close(d[0, 2:4], torch.zeros(2), atol=1e-6, rtol=0)


def test_hbbox_coder_roundtrip():
    coder = TASK_UTILS.build(dict(type='DeltaXYWHTHBBoxCoder', angle_version='le90', edge_swap=True,
                                  use_box_type=False))
    gts = rboxes(100, 2)
    anchors = torch.cat([gts[:, :2] - 20, gts[:, :2] + 20], 1)
    decoded = coder.decode(anchors, coder.encode(anchors, gts).double(), wh_ratio_clip=1e-6)
    torch.testing.assert_close(regularize_rboxes(decoded, 'le90'), regularize_rboxes(gts, 'le90'),
                               atol=1e-3, rtol=0)


def test_distance_angle_point_coder_roundtrip():
    coder = TASK_UTILS.build(dict(type='DistanceAnglePointCoder', angle_version='le90', use_box_type=False))
    gts = regularize_rboxes(rboxes(50, 3), 'le90')
    points = gts[:, :2] + torch.randn(50, 2, dtype=torch.float64) * 2    # points inside
    enc = coder.encode(points, gts)
    torch.testing.assert_close(enc[:, 0] + enc[:, 2], gts[:, 2])          # l + r = w
    torch.testing.assert_close(coder.decode(points, enc), gts, atol=1e-9, rtol=0)


def test_both_delta_coders_share_the_decode_tail():
    # horizontal anchor (0, 0, 100, 100) = rotated anchor (50, 50, 100, 100, 0): the two coders give the
    # same boxes. add_ctr_clamp (mmrotate's delta2bbox): centre shift within +-ctr_clamp, log sizes
    # clamped from above only (|ln(16/1000)| = 4.135)
    kw = dict(angle_version='le90', add_ctr_clamp=True, ctr_clamp=32, use_box_type=False)
    h = TASK_UTILS.build(dict(type='DeltaXYWHTHBBoxCoder', **kw))
    r = TASK_UTILS.build(dict(type='DeltaXYWHTRBBoxCoder', **kw))
    deltas = torch.tensor([[1.0, -0.1, -10.0, 10.0, 0.2]])
    expected = torch.tensor([[50 + 32, 50 - 10, 100 * math.exp(-10), 100 / 0.016, 0.2]])
    torch.testing.assert_close(h.decode(torch.tensor([[0.0, 0, 100, 100]]), deltas), expected)
    torch.testing.assert_close(r.decode(torch.tensor([[50.0, 50, 100, 100, 0]]), deltas), expected)
    # and the same deltas when encoding
    gts = rboxes(50, 4).float()
    anchors = torch.cat([gts[:, :2] - 20, gts[:, :2] + 20], 1)
    torch.testing.assert_close(h.encode(anchors, gts), r.encode(hbox2rbox(anchors), gts))


def test_pseudo_angle_coder_is_the_identity():
    from visiondiv.registry import TASK_UTILS
    coder = TASK_UTILS.build(dict(type='PseudoAngleCoder'))
    angles = torch.tensor([[0.3], [-1.2]])
    assert coder.encode_size == 1
    assert torch.equal(coder.encode(angles), angles)
    assert torch.equal(coder.decode(angles), angles[:, 0])
    assert torch.equal(coder.decode(angles, keepdim=True), angles)


@pytest.mark.parametrize('cfg', [
    dict(type='DeltaXYWHTRBBoxCoder'), dict(type='DeltaXYWHTHBBoxCoder'), dict(type='MidpointOffsetCoder'),
    dict(type='DistanceAnglePointCoder'), dict(type='CSLCoder')])
def test_every_coder_checks_angle_version_the_same_way(cfg):
    """One validator (``check_angle_version``): the coder's name, the key and the allowed values."""
    with pytest.raises(ValueError, match=rf"^{cfg['type']}: angle_version must be one of "
                                         r"\['le135', 'le90', 'oc'\], got 'le45'$"):
        TASK_UTILS.build(dict(cfg, angle_version='le45'))
