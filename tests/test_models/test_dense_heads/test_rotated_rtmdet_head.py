"""RotatedRTMDetHead / RotatedRTMDetSepBNHead: losses, a training step, prediction, shared convs, degenerate and
half-precision input, the box input of each loss, and the Gaussian-loss failure of mmyolo#836 / mmrotate#798."""
import math

import pytest
import torch
from mmdet.models.task_modules import AssignResult
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from visiondiv.models.dense_heads.rotated_rtmdet_head import point_deltas, soft_side_floor
from visiondiv.models.losses import GDLoss, KFLoss
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from .head_checks import (STRIDES, check_step_and_predict, feats, gt_instances, img_metas, record_box_loss_inputs,
                          total)

LOSSES = {
    'riou': dict(type='RotatedIoULoss', mode='linear', loss_weight=2.0),
    'kld': dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False, loss_weight=5.5),
    'kfiou': dict(type='KFLoss', fun='none', loss_weight=5.0),
}


def build_head(loss='riou', sep=True, **kw):
    cfg = dict(
        type='RotatedRTMDetSepBNHead' if sep else 'RotatedRTMDetHead', num_classes=3, in_channels=16,
        stacked_convs=2, feat_channels=16, angle_version='le90',
        anchor_generator=dict(type='mmdet.MlvlPointGenerator', offset=0, strides=list(STRIDES)),
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        loss_cls=dict(type='mmdet.QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_bbox=LOSSES[loss], with_objectness=False, pred_kernel_size=1, act_cfg=dict(type='SiLU'),
        norm_cfg=dict(type='BN') if sep else dict(type='GN', num_groups=4, requires_grad=True),
        train_cfg=dict(assigner=dict(type='mmdet.DynamicSoftLabelAssigner',
                                     iou_calculator=dict(type='RBboxOverlaps2D'), topk=13),
                       allowed_border=-1, pos_weight=-1, debug=False),
        test_cfg=dict(nms_pre=200, min_bbox_size=0, score_thr=0.0, nms=dict(type='nms_rotated', iou_threshold=0.1),
                      max_per_img=50))
    if sep:
        cfg['exp_on_reg'] = True        # the l/m models; exp_on_reg=False is tested on its own below
    cfg.update(kw)
    torch.manual_seed(0)
    head = MODELS.build(ConfigDict(cfg))
    head.init_weights()
    return head


@pytest.mark.parametrize('sep', [True, False])
@pytest.mark.parametrize('loss', ['riou', 'kld', 'kfiou'])
def test_loss_step_and_predict(loss, sep):
    head = build_head(loss, sep)
    learning = [head.rtm_reg[0], head.rtm_ang[0]] if sep else [head.rtm_reg, head.rtm_ang]
    check_step_and_predict(head, {'loss_cls', 'loss_bbox'}, learning)


def test_loss_angle_and_hbbox_loss():
    head = build_head('riou', use_hbbox_loss=True, loss_bbox=dict(type='mmdet.GIoULoss', loss_weight=2.0),
                      loss_angle=dict(type='mmdet.L1Loss', loss_weight=0.2))
    losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_angle'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    with pytest.raises(ValueError, match='loss_angle'):
        build_head('riou', use_hbbox_loss=True)


@pytest.mark.parametrize('version', ['le45', 'LE90', 'r360'])
def test_unknown_angle_version_fails_at_build(version):
    with pytest.raises(ValueError, match=r"angle_version must be one of \['le135', 'le90', 'oc'\]"):
        build_head(angle_version=version)


def test_sepbn_shares_convs_keeps_norms():
    head = build_head()
    for lvl in range(1, len(STRIDES)):
        for i in range(2):
            for convs in (head.cls_convs, head.reg_convs):
                assert convs[lvl][i].conv is convs[0][i].conv          # mmdet's share_conv
                assert convs[lvl][i].bn is not convs[0][i].bn          # per-level BN
    assert len({id(m) for m in head.rtm_ang}) == len(STRIDES) and not hasattr(head, 'scales')
    unshared = build_head(share_conv=False)
    assert unshared.cls_convs[1][0].conv is not unshared.cls_convs[0][0].conv
    with pytest.raises(ValueError, match='scale_angle'):
        build_head(scale_angle=True)


def test_forward_shapes_and_exp_on_reg():
    head = build_head(exp_on_reg=False)
    cls, reg, ang = head(feats())
    assert [c.shape[1] for c in cls] == [3] * 3 and [r.shape[1] for r in reg] == [4] * 3
    assert [a.shape[1] for a in ang] == [1] * 3
    # without exp the distances are rtm_reg x stride, of either sign
    with torch.no_grad():
        raw = head.rtm_reg[1](head.reg_convs[1][1](head.reg_convs[1][0](feats()[1])))
    torch.testing.assert_close(reg[1], raw * STRIDES[1])
    assert bool((reg[0] < 0).any())


def test_predict_decodes_rotated_boxes_about_points():
    head = build_head('riou')
    head.eval()
    with torch.no_grad():
        outs = head(feats())
        res = head.predict_by_feat(*outs, batch_img_metas=img_metas(), rescale=False)[0]
    assert isinstance(res.bboxes, RotatedBoxes)
    box = res.bboxes.tensor
    angles = box[:, 4]
    assert bool(((angles >= -math.pi / 2) & (angles < math.pi / 2)).all())        # le90 wrapping
    # each box is some point's (l, t, r, b, angle) decoded by hand: w = l + r, centre = point + R (r - l, b - t) / 2
    pts = torch.cat([head.prior_generator.single_level_grid_priors((128 // s, 128 // s), i, device='cpu')
                     for i, s in enumerate(STRIDES)])
    dist = torch.cat([torch.cat([b[0], a[0]], 0).permute(1, 2, 0).reshape(-1, 5) for b, a in zip(outs[1], outs[2])])
    c, s = dist[:, 4].cos(), dist[:, 4].sin()
    du, dv = (dist[:, 2] - dist[:, 0]) / 2, (dist[:, 3] - dist[:, 1]) / 2
    manual = torch.stack([pts[:, 0] + c * du - s * dv, pts[:, 1] + s * du + c * dv, dist[:, 0] + dist[:, 2],
                          dist[:, 1] + dist[:, 3]], -1)
    d = (box[:, None, :4] - manual[None]).abs().amax(-1).min(1).values
    assert bool((d < 1e-3).all())


def test_kfiou_gets_point_deltas_and_both_boxes(monkeypatch):
    head = build_head('kfiou')
    assert head.loss_box_input == 'both'
    seen = record_box_loss_inputs(head, monkeypatch)
    head.loss_by_feat(*head(feats()), gt_instances(), img_metas())
    kw = seen['kw'][0]
    pred_dec, target_dec = kw['pred_decode'], kw['targets_decode']
    # (dx, dy) = (centre - point) / stride, the same point and stride for prediction and target
    d_centre = (pred_dec[:, :2] - target_dec[:, :2]).detach()
    d_enc = (seen['pred'][0][:, :2] - seen['target'][0][:, :2]).detach()
    ratio = d_centre / d_enc
    assert bool(((ratio - ratio.round()).abs() < 1e-3).all())
    assert set(ratio.round().flatten().tolist()) <= set(float(s) for s in STRIDES)
    torch.testing.assert_close(seen['target'][0][:, 2:4] * ratio[:, :1], target_dec[:, 2:4])


def test_point_deltas_closed_form():
    pts = torch.tensor([[16.0, 24.0, 8.0, 8.0]])
    box = torch.tensor([[20.0, 20.0, 32.0, 8.0, 0.4]])
    torch.testing.assert_close(point_deltas(pts, box, pts[:, 2]), torch.tensor([[0.5, -0.5, 4.0, 1.0, 0.4]]))


def test_degenerate_gt_is_finite():
    head = build_head('kld')
    gts = gt_instances()
    gts[0] = InstanceData(bboxes=RotatedBoxes(torch.tensor([[40.0, 50.0, 1e-8, 20.0, 0.3], [90.0, 80.0, 0.0, 0.0,
                                                                                                0.0]])),
                          labels=torch.tensor([0, 1]))
    losses = total(head.loss_by_feat(*head(feats()), gts, img_metas()))
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss', ['riou', 'kld', 'kfiou'])
def test_cpu_autocast_is_finite(loss, dtype):
    head = build_head(loss)
    with torch.autocast('cpu', dtype=dtype):
        outs = head(feats())
        losses = total(head.loss_by_feat(*outs, gt_instances(), img_metas()))
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)


def test_soft_side_floor_closed_form():
    s = torch.tensor([-6.0, 0.0, 1.0, 2.0, 100.0], requires_grad=True)
    out = soft_side_floor(s, 2.0)
    torch.testing.assert_close(out, torch.tensor([4 / 10, 4 / 4, 4 / 3, 2.0, 100.0]))
    out.sum().backward()
    torch.testing.assert_close(s.grad, torch.tensor([4 / 100, 4 / 16, 4 / 9, 1.0, 1.0]))


def _mmrotate_sigma_det_fp32(box):
    """mmrotate's ``xy_wh_r_2_xy_sigma`` then ``Sigma.det()`` in float32: R diag(w^2, h^2)/4 R^T in image axes."""
    wh = box[2:4].clamp(1e-7, 1e7)
    c, s = torch.cos(box[4]), torch.sin(box[4])
    r = torch.stack([c, -s, s, c]).reshape(2, 2)
    sigma = r @ torch.diag(wh * wh / 4) @ r.T
    return sigma[0, 0] * sigma[1, 1] - sigma[0, 1] * sigma[1, 0]


@pytest.mark.parametrize('loss', ['kld', 'kfiou'])
def test_gaussian_loss_on_non_positive_sides(loss):
    """mmyolo#836 (RTMDet-R + KLD/KFIoU: NaN on DOTA, GWD fine), reproduced and its mechanism found.

    RTMDet-R tiny/s use ``exp_on_reg=False``: the distances are ``rtm_reg x stride``, unconstrained, and
    ``rtm_reg`` starts at ~N(0, 0.01), so at the start of training *every* decoded box has sides w = l + r,
    h = t + b of a fraction of a pixel, of either sign (and later some still do).

    1. mmrotate's Gaussian losses clamp the sides to [1e-7, 1e7] and build Sigma = R diag(w^2, h^2)/4 R^T in
       image axes; for a tiny w beside a long h at an angle, det Sigma = a d - b^2 cancels in fp32 to <= 0
       (checked below), and KLD's ``log det`` / KFIoU's ``sqrt det`` give NaN. GWD takes no log/sqrt of the
       determinant alone, hence "GWD is fine". visiondiv's losses work in the Gaussian's own axes (log det =
       log var1 + log var2) and stay finite on these boxes.
    2. What remains in visiondiv is the clamp: a side <= 0 is clamped to 1e-7, so the loss has **no gradient
       on that side** (the box can never grow back), and just above 0 KLD's gradient grows like 2 / w
       (over 1e3 per box at w = 1e-5). That is what this test reproduces with ``gaussian_min_side=0``
       (mmrotate's path); it fails if the head passes the raw sides.
    3. Fix (head): the predicted sides go through ``soft_side_floor`` (identity for sides >= 1 px) before a
       Gaussian loss: every side gets a gradient that grows it, bounded by about loss_weight x 2 / 1 px, and
       normal boxes keep their exact loss.
    """
    # 1: the fp32 determinant of mmrotate's covariance of such a box is not positive
    assert _mmrotate_sigma_det_fp32(torch.tensor([102.0, 98.0, 0.01, 280.0, 0.3])) <= 0

    target = torch.tensor([[100.0, 100.0, 40.0, 300.0, 0.3]]).repeat(4, 1)
    priors = torch.tensor([[96.0, 96.0, 8.0, 8.0]]).repeat(4, 1)
    sides = torch.tensor([-8.0, 0.0, 1e-5, 20.0])
    weight = torch.ones(4)

    def run(head):
        w = sides.clone().requires_grad_(True)
        pred = torch.stack([torch.full((4,), 102.0), torch.full((4,), 98.0), w, torch.full((4,), 280.0),
                            torch.full((4,), 0.3)], -1)
        per_box = [head._rbox_loss(pred[i:i + 1], target[i:i + 1], priors[i:i + 1], weight[i:i + 1])
                   for i in range(4)]
        torch.stack(per_box).sum().backward()
        return torch.stack(per_box).detach(), w.grad

    raw_loss, raw_grad = run(build_head(loss, gaussian_min_side=0.0))
    assert torch.isfinite(raw_loss).all() and torch.isfinite(raw_grad).all()
    assert raw_grad[0] == 0 and raw_grad[1] == 0                            # 2: dead at w <= 0
    if loss == 'kld':
        assert raw_grad[2].abs() > 1e3                                       # 2: ~ 2 / w just above 0

    fixed_loss, fixed_grad = run(build_head(loss))
    assert torch.isfinite(fixed_loss).all() and torch.isfinite(fixed_grad).all()
    assert bool((fixed_grad[:3] < 0).all())                                  # 3: every side is pushed to grow
    assert bool((fixed_grad.abs() < 2 * 5.5 * 2).all())                      # 3: bounded
    torch.testing.assert_close(fixed_loss[3], raw_loss[3])                   # 3: normal boxes unchanged
    assert isinstance(build_head(loss).loss_bbox, GDLoss if loss == 'kld' else KFLoss)


def test_iou_loss_keeps_mmrotates_sides():
    # the floor is for Gaussian losses only: RotatedIoULoss gets the raw decoded boxes, as in mmrotate
    assert not build_head('riou').floor_sides and build_head('kld').floor_sides
    assert not build_head('kld', gaussian_min_side=0).floor_sides


def test_exp_on_reg_false_trains_with_gaussian_losses():
    # the tiny/s setting from initialisation: every box starts near-degenerate; three SGD steps stay finite
    for loss in ('kld', 'kfiou'):
        head = build_head(loss, exp_on_reg=False)
        opt = torch.optim.SGD(head.parameters(), lr=0.01)
        for _ in range(3):
            losses = total(head.loss_by_feat(*head(feats()), gt_instances(), img_metas()))
            assert all(torch.isfinite(v) for v in losses.values())
            opt.zero_grad()
            sum(losses.values()).backward()
            assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)
            opt.step()


@pytest.mark.parametrize('box_type', [torch.Tensor, RotatedBoxes])
def test_targets_are_regularised_for_tensor_and_box_type_gt(box_type, monkeypatch):
    """Ground truth outside le90's range (theta = 0.3 + pi; h > w) gives le90 targets, whether the boxes are a
    plain tensor or RotatedBoxes: (40, 20, 0.3) and (60, 24, -0.7 + pi / 2). The assignment is hand-built
    (mmdet's DynamicSoftLabelAssigner takes tensor boxes as horizontal): priors 0-4 to gt 0, 5-9 to gt 1."""
    head = build_head()
    raw = torch.tensor([[40.0, 50.0, 40.0, 20.0, 0.3 + math.pi], [90.0, 80.0, 24.0, 60.0, -0.7]])
    le90 = torch.tensor([[40.0, 50.0, 40.0, 20.0, 0.3], [90.0, 80.0, 60.0, 24.0, -0.7 + math.pi / 2]])
    gt = InstanceData(bboxes=raw.clone() if box_type is torch.Tensor else RotatedBoxes(raw.clone()),
                      labels=torch.tensor([0, 2]))
    n = 20
    gt_inds = torch.zeros(n, dtype=torch.long)
    gt_inds[:5], gt_inds[5:10] = 1, 2
    labels_of = torch.full((n,), -1, dtype=torch.long)
    labels_of[:5], labels_of[5:10] = 0, 2
    overlaps = torch.where(gt_inds > 0, torch.tensor(0.8), torch.tensor(0.0))
    monkeypatch.setattr(head.assigner, 'assign',
                        lambda *args, **kw: AssignResult(2, gt_inds.clone(), overlaps.clone(), labels=labels_of))
    priors = torch.cat([torch.rand(n, 2) * 128, torch.full((n, 2), 8.0)], 1)
    _, labels, _, targets, _, _ = head._get_targets_single(
        torch.zeros(n, 3), torch.rand(n, 5) * 10, priors, torch.ones(n, dtype=torch.bool), gt, img_metas(1)[0])
    torch.testing.assert_close(targets[:10], le90.repeat_interleave(5, 0))
    assert (targets[10:] == 0).all()
    assert labels.tolist() == [0] * 5 + [2] * 5 + [3] * 10
