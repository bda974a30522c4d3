"""OrientedRPNHead: losses, a training step, rotated proposals, NMS on the envelopes (by hand)."""
import math

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from visiondiv.models.dense_heads import OrientedRPNHead
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from .head_checks import GTS, STRIDES, feats, img_metas, total

TEST_CFG = dict(nms_pre=200, max_per_img=50, nms=dict(type='nms', iou_threshold=0.8), min_bbox_size=0)


def build_head(**kw) -> OrientedRPNHead:
    cfg = dict(
        type='OrientedRPNHead', in_channels=16, feat_channels=16,
        anchor_generator=dict(type='mmdet.AnchorGenerator', scales=[4], ratios=[0.5, 1.0, 2.0], strides=STRIDES,
                              use_box_type=True),
        bbox_coder=dict(type='MidpointOffsetCoder', angle_version='le90', target_means=[0.] * 6,
                        target_stds=[1.0, 1.0, 1.0, 1.0, 0.5, 0.5]),
        loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1 / 9, loss_weight=1.0),
        train_cfg=dict(
            assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                          match_low_quality=True, ignore_iof_thr=-1, iou_calculator=dict(type='RBbox2HBboxOverlaps2D')),
            sampler=dict(type='mmdet.RandomSampler', num=64, pos_fraction=0.5, neg_pos_ub=-1,
                         add_gt_as_proposals=False),
            allowed_border=0, pos_weight=-1, debug=False),
        test_cfg=TEST_CFG)
    cfg.update(kw)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def rpn_gts():
    return [InstanceData(bboxes=RotatedBoxes(b), labels=torch.zeros(len(b), dtype=torch.long)) for b in GTS]


def test_loss_step_and_predict():
    head = build_head()
    assert head.rpn_reg.out_channels == 3 * 6 and head.rpn_cls.out_channels == 3
    x = feats()
    losses = total(head.loss_by_feat(*head(x), rpn_gts(), img_metas()))
    assert set(losses) == {'loss_rpn_cls', 'loss_rpn_bbox'}
    assert all(torch.isfinite(v) and v.item() > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert head.rpn_reg.weight.grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())
    head.eval()
    with torch.no_grad():
        results = head.predict_by_feat(*head(x), batch_img_metas=img_metas(), rescale=False)
    for res in results:
        assert isinstance(res.bboxes, RotatedBoxes) and res.bboxes.tensor.shape == (len(res), 5)
        assert 0 < len(res) <= 50 and bool((res.labels == 0).all())
        assert bool((res.bboxes.tensor[:, 2] >= res.bboxes.tensor[:, 3]).all())   # le90: long edge first
        assert bool((res.scores[:-1] >= res.scores[1:]).all())


def test_loss_under_cpu_autocast():
    head = build_head()
    for dtype in (torch.bfloat16, torch.float16):
        with torch.autocast('cpu', dtype=dtype):
            out = head(feats())
            losses = total(head.loss_by_feat(*out, rpn_gts(), img_metas()))
        assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
        sum(losses.values()).backward()
        assert all(torch.isfinite(p.grad).all() for p in head.parameters())


def test_nms_on_horizontal_envelopes():
    """Two crossed 100x10 boxes have a low rotated IoU (~0.05) but the same envelope: one survives.

    A third, far away, survives; a fourth below min_bbox_size goes.
    """
    head = build_head()
    boxes = torch.tensor([[50., 50., 100., 10., math.pi / 4], [50., 50., 100., 10., -math.pi / 4],
                          [300., 300., 40., 20., 0.1], [200., 200., 2., 20., 0.]])
    res = InstanceData(bboxes=RotatedBoxes(boxes), scores=torch.tensor([0.9, 0.8, 0.7, 0.95]),
                       level_ids=torch.zeros(4, dtype=torch.long))
    cfg = ConfigDict(TEST_CFG, min_bbox_size=4)
    out = head._bbox_post_process(res, cfg, img_meta=img_metas(1)[0])
    torch.testing.assert_close(out.bboxes.tensor, boxes[[0, 2]])
    torch.testing.assert_close(out.scores, torch.tensor([0.9, 0.7]))
    # proposals of different levels are suppressed separately
    res = InstanceData(bboxes=RotatedBoxes(boxes[:2]), scores=torch.tensor([0.9, 0.8]),
                       level_ids=torch.tensor([0, 1]))
    assert len(head._bbox_post_process(res, ConfigDict(TEST_CFG), img_meta=img_metas(1)[0])) == 2
    # rescale divides by the scale factor; an empty input gives empty rotated boxes
    res = InstanceData(bboxes=RotatedBoxes(boxes[2:3].clone()), scores=torch.tensor([0.5]),
                       level_ids=torch.zeros(1, dtype=torch.long))
    out = head._bbox_post_process(res, ConfigDict(TEST_CFG), rescale=True,
                                  img_meta=dict(scale_factor=(2.0, 2.0)))
    torch.testing.assert_close(out.bboxes.tensor, torch.tensor([[150., 150., 20., 10., 0.1]]))
    empty = InstanceData(bboxes=RotatedBoxes(torch.zeros(0, 5)), scores=torch.zeros(0),
                         level_ids=torch.zeros(0, dtype=torch.long))
    out = head._bbox_post_process(empty, ConfigDict(TEST_CFG), img_meta=img_metas(1)[0])
    assert isinstance(out.bboxes, RotatedBoxes) and len(out) == 0
    with pytest.raises(ValueError, match='with_nms'):
        head._bbox_post_process(empty, ConfigDict(TEST_CFG), with_nms=False)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_proposals_under_autocast_use_fp32_anchors(dtype):
    """fp16/bf16 predictions under autocast give the proposals of the fp32 path on the same rounded values:
    the anchors are not rounded to the predictions' dtype (mmdet builds them in the scores' dtype)."""
    head = build_head()
    with torch.no_grad():
        cls_scores, bbox_preds = head(feats(channels=16))
    cls_scores = [c.to(dtype) for c in cls_scores]
    bbox_preds = [b.to(dtype) for b in bbox_preds]
    with torch.autocast('cpu', dtype=dtype):
        got = head.predict_by_feat(cls_scores, bbox_preds, batch_img_metas=img_metas(), cfg=ConfigDict(TEST_CFG))
    expected = head.predict_by_feat([c.float() for c in cls_scores], [b.float() for b in bbox_preds],
                                    batch_img_metas=img_metas(), cfg=ConfigDict(TEST_CFG))
    for g, e in zip(got, expected):
        assert len(e) > 0
        torch.testing.assert_close(g.bboxes.tensor, e.bboxes.tensor, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(g.scores, e.scores, rtol=1e-5, atol=1e-5)
