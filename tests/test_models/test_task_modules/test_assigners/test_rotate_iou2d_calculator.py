import math
import os.path as osp

import pytest
import torch

from visiondiv.registry import TASK_UTILS
from tests.script_loader import ROOT
from visiondiv.structures.bbox import RotatedBoxes


def test_closed_form_iou_iof():
    calc = TASK_UTILS.build(dict(type='RBboxOverlaps2D'))
    a = torch.tensor([[0.0, 0.0, 4.0, 2.0, 0.0]])
    b = torch.tensor([[0.0, 0.0, 2.0, 4.0, 0.0], [0.0, 0.0, 4.0, 2.0, math.pi / 2], [100.0, 0, 4, 2, 0]])
    iou = calc(a, b)
    # cross of two 4x2 rectangles: overlap 2x2=4, union 12
    torch.testing.assert_close(iou, torch.tensor([[1 / 3, 1 / 3, 0.0]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(calc(a, b, mode='iof'), torch.tensor([[0.5, 0.5, 0.0]]), atol=1e-5, rtol=0)
    # both turned by 45 degrees: IoU unchanged
    a45, b45 = a.clone(), b[:1].clone()
    a45[:, 4] += math.pi / 4
    b45[:, 4] += math.pi / 4
    assert calc(a45, b45).item() == pytest.approx(1 / 3, abs=1e-5)
    # aligned mode, score column dropped, box objects accepted, empty inputs
    scored = torch.cat([b, torch.ones(3, 1)], 1)
    torch.testing.assert_close(calc(RotatedBoxes(b), scored, is_aligned=True), torch.ones(3), atol=1e-5, rtol=0)
    assert calc(a, torch.zeros(0, 5)).shape == (1, 0)
    # zero-size boxes: finite, no NaN
    z = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0]])
    assert torch.isfinite(calc(z, a)).all()
    with pytest.raises(ValueError, match='columns'):
        calc(torch.zeros(2, 4), a)


def test_sparse_path_equals_dense_op():
    # many boxes: rbbox_overlaps only runs the polygon op on pairs whose envelopes overlap
    from mmcv.ops import box_iou_rotated
    from visiondiv.structures.bbox import rbbox_overlaps
    g = torch.Generator().manual_seed(0)

    def boxes(n):
        return torch.cat([torch.rand(n, 2, generator=g) * 300, torch.rand(n, 2, generator=g) * 60 + 2,
                          (torch.rand(n, 1, generator=g) - 0.5) * 6.4], 1)
    a, b = boxes(7), boxes(3000)
    for mode in ('iou', 'iof'):
        dense = box_iou_rotated(a, b, mode=mode)
        assert (dense > 0).sum() > 50            # the test exercises real overlaps
        torch.testing.assert_close(rbbox_overlaps(a, b, mode=mode), dense, rtol=0, atol=0)


SQRT2 = math.sqrt(2)
# (boxes1, boxes2, rotated IoU, envelope IoU), all by hand:
# - a 2x2 square turned 45 degrees against the upright one: the overlap is a regular octagon of
#   inradius 1, area 8 (sqrt2 - 1), so IoU = 8 (sqrt2 - 1) / (8 - 8 (sqrt2 - 1)) = 1/sqrt2; the
#   diamond's envelope is the 2 sqrt2 square (area 8) holding the upright one (area 4): 4/8.
# - a 4sqrt2 x sqrt2 box at 45 degrees and the same box moved by (2, -2) (2 sqrt2 across its axis,
#   more than its width): no overlap; envelopes [-2.5, 2.5]^2 and [-0.5, 4.5] x [-4.5, 0.5] share 3 x 3.
ENVELOPE_CASES = [
    ([[0.0, 0.0, 2.0, 2.0, math.pi / 4]], [[0.0, 0.0, 2.0, 2.0, 0.0]], 1 / SQRT2, 0.5),
    ([[0.0, 0.0, 4 * SQRT2, SQRT2, math.pi / 4]], [[2.0, -2.0, 4 * SQRT2, SQRT2, math.pi / 4]], 0.0, 9 / 41),
]


@pytest.mark.parametrize('boxes1,boxes2,rotated,envelope', ENVELOPE_CASES)
def test_fake_calculator_is_envelope_iou(boxes1, boxes2, rotated, envelope):
    fake = TASK_UTILS.build(dict(type='FakeRBboxOverlaps2D'))
    exact = TASK_UTILS.build(dict(type='RBboxOverlaps2D'))
    a, b = torch.tensor(boxes1), torch.tensor(boxes2)
    assert exact(a, b).item() == pytest.approx(rotated, abs=1e-5)
    assert fake(a, b).item() == pytest.approx(envelope, abs=1e-6)
    assert fake(b, a).item() == pytest.approx(envelope, abs=1e-6)
    # RotatedBoxes in, score column dropped, aligned mode
    scored = torch.cat([b, torch.full((1, 1), 0.3)], 1)
    assert fake(RotatedBoxes(a), scored, is_aligned=True).item() == pytest.approx(envelope, abs=1e-6)


def test_fake_calculator_modes_and_inputs():
    fake = TASK_UTILS.build(dict(type='FakeRBboxOverlaps2D'))
    diamond = torch.tensor([[0.0, 0.0, 2.0, 2.0, math.pi / 4]])
    upright = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0], [10.0, 0.0, 2.0, 2.0, 0.0]])
    # iof: intersection over the first box's envelope, 4/8 and 4/4
    torch.testing.assert_close(fake(diamond, upright, mode='iof'), torch.tensor([[0.5, 0.0]]))
    torch.testing.assert_close(fake(upright, diamond, mode='iof'), torch.tensor([[1.0], [0.0]]))
    assert fake(diamond, torch.zeros(0, 5)).shape == (1, 0)
    assert fake(torch.zeros(0, 6), diamond, is_aligned=False).shape == (0, 1)
    assert fake(diamond.half(), upright).dtype == torch.float16
    with pytest.raises(ValueError, match='bboxes2 must have 5'):
        fake(diamond, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="mode must be 'iou' or 'iof'"):
        fake(diamond, upright, mode='giou')
    assert repr(fake) == 'FakeRBboxOverlaps2D()'


HBOX_CONFIGS = [
    'configs/rotated_retinanet/rotated-retinanet-hbox-oc_r50_fpn_1x_dota.py',
    'configs/gwd/rotated-retinanet-hbox-oc_r50_fpn_gwd_1x_dota.py',
    'configs/kfiou/rotated-retinanet-hbox-oc_r50_fpn_kfiou_1x_dota.py',
    'configs/kld/rotated-retinanet-hbox-oc_r50_fpn_kld-stable_1x_dota.py',
]
#: model.train_cfg.assigner of mmrotate 1.x's hbox-oc configs (dev-1.x, rotated_retinanet/gwd/kfiou/kld)
MMROTATE_HBOX_ASSIGNER = dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                              ignore_iof_thr=-1, iou_calculator=dict(type='FakeRBboxOverlaps2D'))
#: their bbox_coder (norm_factor None: the angle delta is not divided by pi)
MMROTATE_HBOX_CODER = dict(type='DeltaXYWHTRBBoxCoder', angle_version='oc', norm_factor=None, edge_swap=False,
                           proj_xy=False, target_means=(.0, .0, .0, .0, .0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0))


@pytest.mark.parametrize('config', HBOX_CONFIGS)
def test_hbox_configs_assign_by_envelope_iou(config):
    from mmengine.config import Config
    from mmengine.structures import InstanceData
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.model.train_cfg.assigner.to_dict() == MMROTATE_HBOX_ASSIGNER
    coder = cfg.model.bbox_head.bbox_coder
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in coder.items() if k in MMROTATE_HBOX_CODER} \
        == MMROTATE_HBOX_CODER
    # the built assigner scores the diamond against the upright square by envelope IoU (1/2), not 1/sqrt2
    assigner = TASK_UTILS.build(cfg.model.train_cfg.assigner)
    gt = InstanceData(bboxes=torch.tensor([[0.0, 0.0, 2.0, 2.0, math.pi / 4]]), labels=torch.tensor([3]))
    anchors = InstanceData(priors=torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]]))
    result = assigner.assign(anchors, gt)
    assert result.max_overlaps.item() == pytest.approx(0.5, abs=1e-6)
    assert result.gt_inds.tolist() == [1]       # 0.5 >= pos_iou_thr


def _scene(seed, gts=12, anchors=3000, size=384.0):
    g = torch.Generator().manual_seed(seed)
    def boxes(n, lo, hi):
        xy = torch.rand(n, 2, generator=g) * size
        wh = lo + torch.rand(n, 2, generator=g) * (hi - lo)
        t = (torch.rand(n, 1, generator=g) - 0.5) * math.pi
        return torch.cat([xy, wh, t], 1)
    return boxes(gts, 8.0, 90.0), boxes(anchors, 8.0, 64.0)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_skip_below_keeps_every_max_iou_assignment(seed):
    """Exact where it matters: every entry that is not 0 equals the full matrix, every skipped pair
    has IoU below skip_below and below its row's best, and mmdet's MaxIoUAssigner gives the same result."""
    from mmdet.models.task_modules.assigners import MaxIoUAssigner
    from mmengine.structures import InstanceData
    gts, anchors = _scene(seed)
    gts[0] = anchors[5]  # an exact match, and a ground truth with no overlapping anchor
    gts[1, :2] = torch.tensor([-500.0, -500.0])
    full = TASK_UTILS.build(dict(type='RBboxOverlaps2D'))(gts, anchors)
    fast = TASK_UTILS.build(dict(type='RBboxOverlaps2D', skip_below=0.4))(gts, anchors)
    kept = fast > 0
    assert torch.equal(fast[kept], full[kept])
    skipped = ~kept & (full > 0)
    assert skipped.sum() > 100                               # the point: most overlapping pairs are skipped
    assert (full[skipped] < 0.4).all()
    assert (full[skipped] < full.max(1, keepdim=True).values.expand_as(full)[skipped]).all()
    results = []
    for calc in (dict(type='RBboxOverlaps2D'), dict(type='RBboxOverlaps2D', skip_below=0.4)):
        assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0, iou_calculator=calc)
        res = assigner.assign(InstanceData(priors=RotatedBoxes(anchors)),
                              InstanceData(bboxes=RotatedBoxes(gts), labels=torch.arange(len(gts)) % 3))
        results.append(res)
    assert torch.equal(results[0].gt_inds, results[1].gt_inds)
    assert torch.equal(results[0].labels, results[1].labels)
    assert (results[0].gt_inds > 0).sum() >= len(gts) - 1   # positives exist (all but the far-away ground truth)


def test_skip_below_is_validated_and_other_modes_stay_exact():
    with pytest.raises(ValueError, match='skip_below'):
        TASK_UTILS.build(dict(type='RBboxOverlaps2D', skip_below=0.0))
    gts, anchors = _scene(3, anchors=200)
    calc = TASK_UTILS.build(dict(type='RBboxOverlaps2D', skip_below=0.4))
    full = TASK_UTILS.build(dict(type='RBboxOverlaps2D'))
    assert torch.equal(calc(gts, anchors, mode='iof'), full(gts, anchors, mode='iof'))
    assert torch.equal(calc(gts, gts, is_aligned=True), full(gts, gts, is_aligned=True))


def test_rbbox2hbbox_overlaps_closed_form():
    """RBbox2HBboxOverlaps2D: the rotated box's envelope against horizontal boxes, by hand."""
    calc = TASK_UTILS.build(dict(type='RBbox2HBboxOverlaps2D'))
    # a 4x2 box turned by 90 degrees has the envelope [-1, -2, 1, 2]; a 45-degree 2x2 square [-sqrt2, sqrt2]^2
    r = torch.tensor([[0.0, 0.0, 4.0, 2.0, math.pi / 2], [0.0, 0.0, 2.0, 2.0, math.pi / 4]])
    h = torch.tensor([[-1.0, -2.0, 1.0, 2.0], [0.0, 0.0, 1.0, 2.0], [10.0, 10.0, 11.0, 11.0]])
    s = math.sqrt(2)
    expected = torch.tensor([[1.0, 2 / 8, 0.0],
                             [4 * s / (8 + 8 - 4 * s), s / (8 + 2 - s), 0.0]])
    # a score column on either side is dropped
    with_scores = calc(torch.cat([r, torch.ones(2, 1)], 1), torch.cat([h, torch.ones(3, 1)], 1))
    torch.testing.assert_close(with_scores, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(calc(r, h), expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(calc(r, h[:2], is_aligned=True), expected.diagonal()[:2], atol=1e-5, rtol=0)
    torch.testing.assert_close(calc(r, h, mode='iof')[0, 1], torch.tensor(0.25), atol=1e-6, rtol=0)
    fp16 = TASK_UTILS.build(dict(type='RBbox2HBboxOverlaps2D', dtype='fp16', scale=2.0))
    assert fp16(r, h).dtype == torch.float32
    torch.testing.assert_close(fp16(r, h), expected, atol=2e-3, rtol=0)
    assert calc(r, h[:0]).shape == (2, 0) and calc(r[:0], h).shape == (0, 3)
    with pytest.raises(ValueError, match='bboxes2 must be horizontal'):
        calc(r, torch.zeros(1, 6))
    with pytest.raises(ValueError, match='bboxes1 must be rotated'):
        calc(h, h)
    with pytest.raises(ValueError, match='dtype'):
        TASK_UTILS.build(dict(type='RBbox2HBboxOverlaps2D', dtype='bf16'))
