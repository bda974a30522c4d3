"""RotatedRPNHead: mmdet's RPNHead (what mmrotate's Rotated Faster R-CNN config names) with the same keys, losses
and proposals in fp32, and fp32 losses and NMS under CPU autocast."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes

IMG = 64
TRAIN = dict(assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                           match_low_quality=True, iou_calculator=dict(type='RBbox2HBboxOverlaps2D'),
                           ignore_iof_thr=-1),
             sampler=dict(type='mmdet.RandomSampler', num=64, pos_fraction=0.5, neg_pos_ub=-1,
                          add_gt_as_proposals=False),
             allowed_border=0, pos_weight=-1, debug=False)
TEST = ConfigDict(nms_pre=200, max_per_img=50, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0)


def build(type_: str):
    cfg = dict(type=type_, in_channels=8, feat_channels=8,
               anchor_generator=dict(type='mmdet.AnchorGenerator', scales=[4], ratios=[0.5, 1.0, 2.0],
                                     strides=[8, 16], use_box_type=True),
               bbox_coder=dict(type='DeltaXYWHHBBoxCoder', target_means=[.0] * 4, target_stds=[1.0] * 4,
                               use_box_type=True),
               loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
               loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0),
               train_cfg=ConfigDict(TRAIN), test_cfg=TEST)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def inputs():
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(1, 8, IMG // s, IMG // s, generator=g) for s in (8, 16)]
    gts = [InstanceData(bboxes=RotatedBoxes(torch.tensor([[30., 30., 30., 12., 0.4], [20., 44., 16., 16., 0.]])),
                        labels=torch.zeros(2, dtype=torch.long))]
    metas = [dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), scale_factor=(1., 1.))]
    return feats, gts, metas


def test_same_keys_losses_and_proposals_as_mmdet_rpn_head():
    ours, theirs = build('RotatedRPNHead'), build('mmdet.RPNHead')
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    feats, gts, metas = inputs()
    outs = ours(feats)
    l_ours = ours.loss_by_feat(*outs, gts, metas)
    l_theirs = theirs.loss_by_feat(*outs, gts, metas)
    for k in l_ours:
        torch.testing.assert_close(sum(l_ours[k]), sum(l_theirs[k]), rtol=0, atol=0)
    p_ours = ours.predict_by_feat(*outs, batch_img_metas=metas, cfg=TEST)[0]
    p_theirs = theirs.predict_by_feat(*outs, batch_img_metas=metas, cfg=TEST)[0]
    assert len(p_ours) > 0
    torch.testing.assert_close(p_ours.bboxes.tensor, p_theirs.bboxes.tensor, rtol=0, atol=0)
    torch.testing.assert_close(p_ours.scores, p_theirs.scores, rtol=0, atol=0)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_fp32_losses_and_nms_under_cpu_autocast(dtype):
    head = build('RotatedRPNHead')
    feats, gts, metas = inputs()
    with torch.autocast('cpu', dtype=dtype):
        outs = head(feats)
        assert outs[0][0].dtype == dtype
        losses = head.loss_by_feat(*outs, gts, metas)
        proposals = head.predict_by_feat(*outs, batch_img_metas=metas, cfg=TEST)[0]
    total = sum(sum(v) for v in losses.values())
    assert total.dtype == torch.float32 and torch.isfinite(total)
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)
    assert len(proposals) > 0 and proposals.bboxes.tensor.dtype == torch.float32


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_proposals_under_autocast_use_fp32_anchors(dtype):
    """fp16/bf16 predictions under autocast give the proposals of the fp32 path on the same rounded values:
    the anchors are not rounded to the predictions' dtype (mmdet builds them in the scores' dtype)."""
    head = build('RotatedRPNHead')
    feats, _, metas = inputs()
    with torch.no_grad():
        cls_scores, bbox_preds = head(feats)
    cls_scores = [c.to(dtype) for c in cls_scores]
    bbox_preds = [b.to(dtype) for b in bbox_preds]
    with torch.autocast('cpu', dtype=dtype):
        got = head.predict_by_feat(cls_scores, bbox_preds, batch_img_metas=metas, cfg=TEST)[0]
    expected = head.predict_by_feat([c.float() for c in cls_scores], [b.float() for b in bbox_preds],
                                    batch_img_metas=metas, cfg=TEST)[0]
    assert len(expected) > 0
    torch.testing.assert_close(got.bboxes.tensor, expected.bboxes.tensor, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got.scores, expected.scores, rtol=1e-5, atol=1e-5)
