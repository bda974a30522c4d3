"""RotatedFCOSHead: the box input each loss declares, loss/predict and one training step, with a rotated box
loss (mmrotate's default RotatedIoULoss, GDLoss, KFLoss) and with ``use_hbbox_loss`` (horizontal IoU + angle loss)."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from visiondiv.models.losses import RotatedIoULoss
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes, regularize_rboxes
from .head_checks import (GTS, IMG, STRIDES, check_step_and_predict, feats, gt_instances, img_metas,
                          record_box_loss_inputs, rows_in, total)

LOSSES = {
    'riou': dict(type='RotatedIoULoss', loss_weight=1.0),
    'kld': dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False, loss_weight=1.0),
    'gwd': dict(type='GDLoss', loss_type='gwd', loss_weight=5.0),
    'kfiou': dict(type='KFLoss', loss_weight=5.0),
    'l1': dict(type='mmdet.L1Loss', loss_weight=0.01),
    'hiou': dict(type='mmdet.IoULoss', loss_weight=1.0),
}
#: mmrotate's rotated-fcos-hbox config: horizontal IoU loss on the distances, L1 on the angle
HBOX = dict(use_hbbox_loss=True, loss_angle=dict(type='mmdet.L1Loss', loss_weight=0.2))


def build_head(loss='kld', **kw):
    cfg = dict(
        type='RotatedFCOSHead', num_classes=3, in_channels=16, stacked_convs=1, feat_channels=16,
        strides=list(STRIDES), regress_ranges=((-1, 48), (48, 96), (96, 1e8)), center_sampling=True,
        center_sample_radius=1.5, norm_on_bbox=True, centerness_on_reg=True, scale_angle=True,
        angle_version='le90', bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
        loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_centerness=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        test_cfg=dict(nms_pre=200, min_bbox_size=0, score_thr=0.0, nms=dict(type='nms_rotated', iou_threshold=0.1),
                      max_per_img=50))
    if loss is not None:
        cfg['loss_bbox'] = LOSSES[loss]
    cfg.update(kw)
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(cfg))     # test_cfg is read by attribute


@pytest.mark.parametrize('loss,box_input', [('riou', 'decoded'), ('kld', 'decoded'), ('gwd', 'decoded'),
                                            ('kfiou', 'both'), ('l1', 'decoded')])
def test_box_input_comes_from_the_loss(loss, box_input):
    # a loss that declares nothing (mmdet's L1) gets decoded boxes, as in mmdet's FCOS
    assert build_head(loss).loss_box_input == box_input


def test_defaults_are_mmrotates():
    # mmrotate's RotatedFCOSHead defaults: RotatedIoULoss (log mode), focal and centerness losses
    head = MODELS.build(dict(type='RotatedFCOSHead', num_classes=3, in_channels=16))
    assert type(head.loss_bbox) is RotatedIoULoss and head.loss_bbox.mode == 'log'
    assert head.loss_bbox.loss_weight == 1.0 and type(head.loss_cls).__name__ == 'FocalLoss'
    assert type(head.loss_centerness).__name__ == 'CrossEntropyLoss' and head.loss_centerness.use_sigmoid
    assert head.loss_box_input == 'decoded' and not hasattr(head, 'h_bbox_coder') and head.loss_angle is None


def _gt_index(rows, atol):
    """For each row, the ground-truth box it equals (both le90-regularised), or -1."""
    gts = regularize_rboxes(torch.cat(GTS), 'le90')
    d = (regularize_rboxes(rows.detach(), 'le90')[:, None] - gts[None]).abs().amax(-1)
    best = d.min(-1)
    return torch.where(best.values < atol, best.indices, torch.full_like(best.indices, -1))


@pytest.mark.parametrize('loss', ['riou', 'kld', 'kfiou'])
def test_loss_gets_the_declared_input(loss, monkeypatch):
    # norm_on_bbox=False: the distances are in pixels, so decoded targets are the ground truth itself
    head = build_head(loss, norm_on_bbox=False)
    seen = record_box_loss_inputs(head, monkeypatch)
    outs = head(feats())
    head.loss_by_feat(*outs, gt_instances(), img_metas())
    pred, target = torch.cat(seen['pred']), torch.cat(seen['target'])
    assert len(target) > len(torch.cat(GTS))                # several points inside each box
    # every (l, t, r, b, angle) the head predicted, and each decoded from its own point
    encoded = torch.cat([torch.cat([b, a], 1).permute(0, 2, 3, 1).reshape(-1, 5)
                         for b, a in zip(outs[1], outs[2])]).detach()
    points = head.prior_generator.grid_priors([(IMG // s, IMG // s) for s in STRIDES], device='cpu')
    points = torch.cat([p.repeat(2, 1) for p in points])
    decoded = head.bbox_coder.decode(points, encoded).tensor
    if loss != 'kfiou':
        # decoded: the predictions are decoded boxes, the targets the ground-truth boxes themselves
        assert bool((_gt_index(target, 1e-3) >= 0).all()) and 'pred_decode' not in seen['kw'][0]
        assert rows_in(pred, decoded) and not rows_in(pred, encoded)
        return
    assert rows_in(pred, encoded) and not rows_in(pred, decoded)
    # 'both': encoded (l, t, r, b, angle) distances, plus both decoded boxes from the same point
    assert bool((target[:, :4] > 0).all()) and bool((_gt_index(target, 1.0) < 0).all())
    targets_decode = torch.cat([k['targets_decode'] for k in seen['kw']])
    pred_decode = torch.cat([k['pred_decode'] for k in seen['kw']])
    assert bool((_gt_index(targets_decode, 1e-3) >= 0).all())
    # the point: the box centre minus its offset (r - l, b - t) / 2 turned by the angle
    c, s = torch.cos(target[:, 4]), torch.sin(target[:, 4])
    hx, hy = (target[:, 2] - target[:, 0]) / 2, (target[:, 3] - target[:, 1]) / 2
    points = targets_decode[:, :2] - torch.stack([c * hx - s * hy, s * hx + c * hy], -1)
    torch.testing.assert_close(pred_decode.detach(), head.bbox_coder.decode(points, pred.detach()).tensor,
                               atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize('loss', ['riou', 'kld', 'gwd', 'kfiou'])
def test_loss_predict_and_one_step(loss):
    head = build_head(loss)
    # the angle branch learns through the box loss; FCOS may predict zero-size boxes
    check_step_and_predict(head, {'loss_cls', 'loss_bbox', 'loss_centerness'}, [head.conv_angle, head.conv_reg],
                           positive_sides=False)


def test_no_positive_point_gives_zero_box_loss():
    head = build_head('kld')
    empty = [InstanceData(bboxes=RotatedBoxes(torch.zeros(0, 5)), labels=torch.zeros(0, dtype=torch.long))] * 2
    losses = total(head.loss_by_feat(*head(feats()), empty, img_metas()))
    assert losses['loss_bbox'].item() == 0 and losses['loss_centerness'].item() == 0
    assert losses['loss_cls'].item() > 0


def test_hbbox_loss_predict_and_one_step():
    head = build_head('hiou', **HBOX)
    assert head.use_hbbox_loss and type(head.h_bbox_coder).__name__ == 'DistancePointBBoxCoder'
    check_step_and_predict(head, {'loss_cls', 'loss_bbox', 'loss_angle', 'loss_centerness'},
                           [head.conv_angle, head.conv_reg], positive_sides=False)


def test_hbbox_loss_gets_horizontal_boxes_about_each_point(monkeypatch):
    # norm_on_bbox=False: distances in pixels, so the target boxes have the ground truth's sides
    head = build_head('hiou', norm_on_bbox=False, **HBOX)
    seen = record_box_loss_inputs(head, monkeypatch)
    outs = head(feats())
    head.loss_by_feat(*outs, gt_instances(), img_metas())
    pred, target = torch.cat(seen['pred']), torch.cat(seen['target'])
    assert pred.shape[1] == 4 and len(target) > len(torch.cat(GTS))
    # (x1, y1, x2, y2) = (px - l, py - t, px + r, py + b) for every point and its predicted distances
    points = head.prior_generator.grid_priors([(IMG // s, IMG // s) for s in STRIDES], device='cpu')
    points = torch.cat([p.repeat(2, 1) for p in points])
    dist = torch.cat([b.permute(0, 2, 3, 1).reshape(-1, 4) for b in outs[1]]).detach()
    table = torch.cat([points - dist[:, :2], points + dist[:, 2:]], 1)
    assert rows_in(pred, table)
    # each target is a w x h box of a (le90) ground truth, axis-aligned, around a point inside that ground truth
    gts = regularize_rboxes(torch.cat(GTS), 'le90')
    sides = torch.stack([target[:, 2] - target[:, 0], target[:, 3] - target[:, 1]], 1)
    assert rows_in(sides, gts[:, 2:4], atol=1e-3)


def test_hbbox_angle_is_learnt_by_loss_angle_alone():
    head = build_head('hiou', **HBOX)
    losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
    weight = head.conv_angle.weight
    box_grad = torch.autograd.grad(losses['loss_bbox'], weight, retain_graph=True, allow_unused=True)[0]
    angle_grad = torch.autograd.grad(losses['loss_angle'], weight, retain_graph=True)[0]
    assert box_grad is None or box_grad.abs().sum() == 0
    assert angle_grad.abs().sum() > 0
    # the rotated IoU loss, in contrast, trains the angle branch itself
    head = build_head('riou')
    losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
    assert torch.autograd.grad(losses['loss_bbox'], head.conv_angle.weight)[0].abs().sum() > 0


def test_hbbox_loss_without_positives_is_zero():
    head = build_head('hiou', **HBOX)
    empty = [InstanceData(bboxes=RotatedBoxes(torch.zeros(0, 5)), labels=torch.zeros(0, dtype=torch.long))] * 2
    losses = total(head.loss_by_feat(*head(feats()), empty, img_metas()))
    assert losses['loss_bbox'].item() == 0 and losses['loss_angle'].item() == 0 and losses['loss_cls'].item() > 0


def test_hbbox_loss_refuses_bad_settings():
    with pytest.raises(ValueError, match='use_hbbox_loss=True needs loss_angle'):
        build_head('hiou', use_hbbox_loss=True)
    with pytest.raises(ValueError, match=r'RotatedIoULoss takes rotated boxes'):
        build_head('riou', **HBOX)


#: mmrotate's rotated-fcos-hbox-le90_r50_fpn_csl-gaussian_1x_dota head settings
CSL = dict(use_hbbox_loss=True, scale_angle=False,
           angle_coder=dict(type='CSLCoder', angle_version='le90', omega=1, window='gaussian', radius=1),
           loss_angle=dict(type='SmoothFocalLoss', gamma=2.0, alpha=0.25, loss_weight=0.2))


def test_csl_coder_loss_predict_and_one_step():
    head = build_head('hiou', **CSL)
    assert head.conv_angle.out_channels == 180 and not hasattr(head, 'scale_angle')
    check_step_and_predict(head, {'loss_cls', 'loss_bbox', 'loss_angle', 'loss_centerness'},
                           [head.conv_angle, head.conv_reg], positive_sides=False)


def test_csl_loss_angle_is_the_smooth_focal_loss_of_the_encoded_targets(monkeypatch):
    head = build_head('hiou', **CSL)
    seen = {}
    original = head.loss_angle.forward

    def record(pred, target, **kw):
        seen.update(pred=pred, target=target, kw=kw)
        return original(pred, target, **kw)

    monkeypatch.setattr(head.loss_angle, 'forward', record)
    losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
    pred, target = seen['pred'], seen['target']
    assert pred.shape[1] == 180 and target.shape == pred.shape
    # every target row is the circular smooth label of one (le90) ground-truth angle
    gts = regularize_rboxes(torch.cat(GTS), 'le90')
    table = head.angle_coder.encode(gts[:, 4:5])
    assert rows_in(target, table)
    assert torch.isfinite(losses['loss_angle']) and losses['loss_angle'].item() > 0
    # decoded predictions are the arg-max bins' centres
    head.eval()
    with torch.no_grad():
        results = head.predict_by_feat(*head(feats()), batch_img_metas=img_metas(), rescale=False)
    angles = results[0].bboxes.tensor[:, 4] if hasattr(results[0].bboxes, 'tensor') else results[0].bboxes[:, 4]
    bins = (torch.rad2deg(angles) + 90 - 0.5).round()
    torch.testing.assert_close(torch.rad2deg(angles), bins + 0.5 - 90, rtol=0, atol=1e-3)


def test_csl_coder_without_loss_angle_is_refused():
    with pytest.raises(ValueError, match='angle_coder CSLCoder encodes the angle in 180 bins.*set loss_angle'):
        build_head('riou', angle_coder=CSL['angle_coder'])


def test_mmrotate_csl_config_builds_and_one_loss_step_is_finite():
    import os.path as osp

    from mmdet.structures import DetDataSample
    from mmengine.config import Config

    root = osp.join(osp.dirname(__file__), '..', '..', '..')
    cfg = Config.fromfile(osp.join(root, 'configs', 'rotated_fcos',
                                   'rotated-fcos-hbox-le90_r50_fpn_csl-gaussian_1x_dota.py'))
    head_cfg = cfg.model.bbox_head
    assert head_cfg.angle_coder == dict(type='CSLCoder', angle_version='le90', omega=1, window='gaussian', radius=1)
    assert head_cfg.loss_angle == dict(type='SmoothFocalLoss', gamma=2.0, alpha=0.25, loss_weight=0.2)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert type(model.bbox_head.angle_coder).__name__ == 'CSLCoder' and model.bbox_head.conv_angle.out_channels == 180
    samples = []
    for boxes in GTS:
        sample = DetDataSample(metainfo=dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=RotatedBoxes(boxes), labels=torch.arange(len(boxes)) % 3)
        samples.append(sample)
    losses = model.loss(torch.rand(2, 3, IMG, IMG), samples)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_angle', 'loss_centerness'}
    total_loss = sum(losses.values())
    assert torch.isfinite(total_loss)
    total_loss.backward()
    assert torch.isfinite(model.bbox_head.conv_angle.weight.grad).all()
    assert model.bbox_head.conv_angle.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_csl_losses_finite_under_autocast(dtype):
    head = build_head('hiou', **CSL)
    with torch.autocast('cpu', dtype=dtype):
        losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)
    assert head.conv_angle.weight.grad.abs().sum() > 0


def test_unknown_angle_version_fails_at_build():
    with pytest.raises(ValueError, match=r"^RotatedFCOSHead: angle_version must be one of \['le135', 'le90', 'oc'\], "
                                         r"got 'le45'$"):
        build_head(angle_version='le45')
