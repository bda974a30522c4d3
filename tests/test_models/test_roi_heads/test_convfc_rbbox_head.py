"""RotatedShared2FCBBoxHead: normal / kfiou losses by input, degenerate boxes, CPU autocast, prediction."""
import math

import pytest
import torch

from visiondiv.registry import MODELS

CODER = dict(type='DeltaXYWHTRBBoxCoder', angle_version='le90', norm_factor=None, edge_swap=True, proj_xy=True,
             target_means=(.0, .0, .0, .0, .0), target_stds=(0.1, 0.1, 0.2, 0.2, 0.1))


def build(loss_bbox=None, **kw):
    cfg = dict(type='RotatedShared2FCBBoxHead', predict_box_type='rbox', in_channels=4, fc_out_channels=16,
               roi_feat_size=7, num_classes=3, bbox_coder=CODER, reg_class_agnostic=True,
               reg_predictor_cfg=dict(type='mmdet.Linear'), cls_predictor_cfg=dict(type='mmdet.Linear'),
               loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
               loss_bbox=loss_bbox or dict(type='mmdet.SmoothL1Loss', beta=1.0, loss_weight=1.0))
    cfg.update(kw)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def sample(head, degenerate=False):
    """Six RoIs, four positive; targets encoded against them (one degenerate target when asked)."""
    rois = torch.tensor([[0., 30., 30., 40., 20., 0.2], [0., 60., 40., 30., 30., -0.5], [1., 50., 50., 60., 10., 1.],
                         [1., 20., 80., 20., 8., 0.], [0., 90., 90., 10., 10., 0.], [1., 10., 10., 5., 5., 0.]])
    gts = rois[:4, 1:] + torch.tensor([2., -1., 4., 2., 0.1])
    if degenerate:
        gts[1, 3] = 1e-4   # h ~ 0 (an exact 0 encodes to log(0) = -inf, in mmrotate too)
    labels = torch.tensor([0, 2, 1, 0, 3, 3])
    targets = torch.zeros(6, 5)
    targets[:4] = head.bbox_coder.encode(rois[:4, 1:], gts)
    weights = torch.zeros(6, 5)
    weights[:4] = 1
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 4, 7, 7, generator=g)
    return x, rois, labels, torch.ones(6), targets, weights, gts


@pytest.mark.parametrize('kind', ['normal', 'kfiou', 'gd'])
@pytest.mark.parametrize('degenerate', [False, True])
def test_losses_finite_with_gradients(kind, degenerate, monkeypatch):
    loss_bbox = dict(kfiou=dict(type='KFLoss', loss_weight=5.0),
                     gd=dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0)).get(kind)
    head = build(loss_bbox)
    assert head.loss_bbox_type == ('kfiou' if kind == 'kfiou' else 'normal')
    x, rois, labels, lw, targets, bw, gts = sample(head, degenerate)
    seen = {}
    forward = head.loss_bbox.forward

    def spy(pred, target, weight=None, **kw):
        seen.update(pred=pred, target=target, kw=kw)
        return forward(pred, target, weight, **kw)
    monkeypatch.setattr(head.loss_bbox, 'forward', spy)
    cls_score, bbox_pred = head(x)
    losses = head.loss(cls_score, bbox_pred, rois, labels, lw, targets, bw)
    assert set(losses) == {'loss_cls', 'acc', 'loss_bbox'}
    assert torch.isfinite(losses['loss_cls']) and torch.isfinite(losses['loss_bbox'])
    assert losses['loss_bbox'] > 0
    (losses['loss_cls'] + losses['loss_bbox']).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())
    assert head.fc_reg.weight.grad.abs().sum() > 0
    # what the loss was given: the positive rows (4), deltas or decoded boxes
    assert seen['pred'].shape == (4, 5)
    decoded_pred = head.bbox_coder.decode(rois[:4, 1:], bbox_pred[:4].detach()).tensor
    if kind == 'normal':
        torch.testing.assert_close(seen['pred'], bbox_pred[:4])
        torch.testing.assert_close(seen['target'], targets[:4])
    elif kind == 'kfiou':
        torch.testing.assert_close(seen['pred'], bbox_pred[:4])
        torch.testing.assert_close(seen['kw']['pred_decode'].detach(), decoded_pred)
        gts_dec = head.bbox_coder.decode(rois[:4, 1:], targets[:4]).tensor
        torch.testing.assert_close(seen['kw']['targets_decode'], gts_dec)
        if not degenerate:
            from visiondiv.structures.bbox import rbox2qbox
            torch.testing.assert_close(rbox2qbox(gts_dec), rbox2qbox(gts), atol=1e-3, rtol=0)
    else:
        torch.testing.assert_close(seen['pred'].detach(), decoded_pred)


def test_class_specific_rows_and_no_positive():
    head = build(reg_class_agnostic=False)
    x, rois, labels, lw, targets, bw, _ = sample(head)
    cls_score, bbox_pred = head(x)
    assert bbox_pred.shape == (6, 15)
    losses = head.loss(cls_score, bbox_pred, rois, labels, lw, targets, bw, reduction_override='none')
    # the row of each positive RoI's own class: smooth-L1 by hand, per coordinate, / (all RoIs = 6)
    rows = bbox_pred.view(6, 3, 5)[torch.arange(4), labels[:4]]
    diff = (rows - targets[:4]).abs()
    ref = torch.where(diff < 1.0, 0.5 * diff ** 2, diff - 0.5)
    torch.testing.assert_close(losses['loss_bbox'], ref)
    bg = torch.full((6, ), 3)
    zero = head.loss(cls_score, bbox_pred, rois, bg, lw, targets, bw)['loss_bbox']
    assert zero.item() == 0 and zero.requires_grad


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_cpu_autocast_losses_fp32(dtype):
    for loss_bbox in (None, dict(type='KFLoss', loss_weight=5.0)):
        head = build(loss_bbox)
        x, rois, labels, lw, targets, bw, _ = sample(head, degenerate=True)
        with torch.autocast('cpu', dtype=dtype):
            cls_score, bbox_pred = head(x)
            losses = head.loss(cls_score, bbox_pred, rois, labels, lw, targets, bw)
        assert bbox_pred.dtype == dtype
        assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
        (losses['loss_cls'] + losses['loss_bbox']).backward()
        assert all(torch.isfinite(p.grad).all() for p in head.parameters())


def test_predict_fp32_rotated_nms():
    from mmengine.config import ConfigDict
    head = build()
    head.eval()
    x, rois, *_ = sample(head)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        cls_score, bbox_pred = head(x)
        res = head.predict_by_feat((rois, ), (cls_score, ), (bbox_pred, ),
                                   [dict(img_shape=(128, 128), scale_factor=(1., 1.))],
                                   rcnn_test_cfg=ConfigDict(score_thr=0.0, nms=dict(type='nms_rotated',
                                                                                     iou_threshold=0.1),
                                                            max_per_img=100))[0]
    assert res.bboxes.shape == (len(res), 5) and res.bboxes.dtype == torch.float32
    assert len(res) > 0 and bool((res.labels < 3).all())


def test_bad_loss_bbox_type():
    with pytest.raises(ValueError, match='contradicts'):
        build(dict(type='KFLoss'), loss_bbox_type='normal')
    with pytest.raises(ValueError, match="'normal' or 'kfiou'"):
        build(loss_bbox_type='gwd')
    assert math.isfinite(1.0)


@pytest.mark.parametrize('agnostic', [True, False])
def test_equals_mmdet_head_with_smooth_l1(agnostic):
    """With mmdet's losses the head is mmdet's Shared2FCBBoxHead (what mmrotate's DOTA configs name): the same
    weights give the same losses and predictions, so configs may use either and keep their checkpoints."""
    from mmengine.config import ConfigDict
    ours = build(reg_class_agnostic=agnostic)
    cfg = dict(type='mmdet.Shared2FCBBoxHead', predict_box_type='rbox', in_channels=4, fc_out_channels=16,
               roi_feat_size=7, num_classes=3, bbox_coder=CODER, reg_class_agnostic=agnostic,
               reg_predictor_cfg=dict(type='mmdet.Linear'), cls_predictor_cfg=dict(type='mmdet.Linear'),
               loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
               loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0, loss_weight=1.0))
    theirs = MODELS.build(cfg)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x, rois, labels, lw, targets, bw, _ = sample(ours)
    out_ours, out_theirs = ours(x), theirs(x)
    for a, b in zip(out_ours, out_theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    l_ours = ours.loss(*out_ours, rois, labels, lw, targets, bw)
    l_theirs = theirs.loss(*out_theirs, rois, labels, lw, targets, bw)
    assert l_ours.keys() == l_theirs.keys()
    for k in l_ours:
        torch.testing.assert_close(l_ours[k], l_theirs[k], rtol=0, atol=0)
    test_cfg = ConfigDict(score_thr=0.0, nms=dict(type='nms_rotated', iou_threshold=0.1), max_per_img=100)
    meta = [dict(img_shape=(128, 128), scale_factor=(1., 1.))]
    with torch.no_grad():
        p_ours = ours.predict_by_feat((rois, ), out_ours[:1], out_ours[1:], meta, rcnn_test_cfg=test_cfg)[0]
        p_theirs = theirs.predict_by_feat((rois, ), out_theirs[:1], out_theirs[1:], meta, rcnn_test_cfg=test_cfg)[0]
    torch.testing.assert_close(p_ours.bboxes, p_theirs.bboxes.tensor if hasattr(p_theirs.bboxes, 'tensor')
                               else p_theirs.bboxes)
    torch.testing.assert_close(p_ours.scores, p_theirs.scores)
    assert torch.equal(p_ours.labels, p_theirs.labels)
