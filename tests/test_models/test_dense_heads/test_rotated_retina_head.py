"""RotatedRetinaHead: the box input each loss declares, loss/predict/one training step, and the
``use_box_type=True`` decoding against the former tensor path on the toy RetinaNet."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes, get_box_tensor
from mmengine.config import Config, ConfigDict
from mmengine.structures import InstanceData

from visiondiv.models.dense_heads import RotatedRetinaHead
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes, regularize_rboxes
from .head_checks import (GTS, IMG, STRIDES, check_step_and_predict, feats, gt_instances, img_metas,
                          record_box_loss_inputs, rows_in, total)

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs')
TOY = {
    'kld': 'kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py',
    'kfiou': 'kfiou/rotated-retinanet-rbox-le90_r18-tiny_fpn_kfiou_16e_toy-dota.py',
    'smooth_l1': 'rotated_retinanet/rotated-retinanet-rbox-le90_r18-tiny_fpn_16e_toy-dota.py',
}
LOSSES = {
    'kld': dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False, loss_weight=5.5),
    'gwd': dict(type='GDLoss', loss_type='gwd', loss_weight=5.0),
    'kfiou': dict(type='KFLoss', loss_weight=5.0),
    'smooth_l1': dict(type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0),
}


def head_cfg(loss='kld', **kw):
    return dict(
        type='RotatedRetinaHead', num_classes=3, in_channels=16, stacked_convs=1, feat_channels=16,
        anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='le90', octave_base_scale=4,
                              scales_per_octave=2, ratios=[1.0, 0.5, 2.0], strides=list(STRIDES)),
        bbox_coder=dict(type='DeltaXYWHTRBBoxCoder', angle_version='le90', edge_swap=True, proj_xy=True),
        loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=LOSSES[loss],
        train_cfg=dict(assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                                     ignore_iof_thr=-1, iou_calculator=dict(type='RBboxOverlaps2D')),
                       sampler=dict(type='mmdet.PseudoSampler'), allowed_border=-1, pos_weight=-1, debug=False),
        test_cfg=dict(nms_pre=200, min_bbox_size=0, score_thr=0.0, nms=dict(type='nms_rotated', iou_threshold=0.1),
                      max_per_img=50), **kw)


def build_head(loss='kld', **kw):
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(head_cfg(loss, **kw)))   # test_cfg is read by attribute


@pytest.mark.parametrize('loss,box_input,loss_bbox_type', [
    ('kld', 'decoded', 'normal'), ('gwd', 'decoded', 'normal'), ('kfiou', 'both', 'kfiou'),
    ('smooth_l1', 'encoded', 'normal')])
def test_box_input_comes_from_the_loss(loss, box_input, loss_bbox_type):
    head = build_head(loss)
    assert head.loss_box_input == box_input and head.loss_bbox_type == loss_bbox_type
    assert head.reg_decoded_bbox == (box_input == 'decoded')     # mmdet encodes the targets otherwise


def test_mmrotate_arguments_accepted_and_contradictions_named():
    # mmrotate's KFIoU and GDLoss configs spell out what the loss declares: accepted
    assert build_head('kfiou', loss_bbox_type='kfiou', reg_decoded_bbox=False).loss_box_input == 'both'
    assert build_head('kld', reg_decoded_bbox=True, loss_bbox_type='normal').loss_box_input == 'decoded'
    # an mmdet loss declares nothing: reg_decoded_bbox decides, as in mmdet
    assert build_head('smooth_l1', reg_decoded_bbox=True).loss_box_input == 'decoded'
    with pytest.raises(ValueError, match=r"loss_bbox_type='kfiou' contradicts loss_bbox GDLoss"):
        build_head('kld', loss_bbox_type='kfiou')
    with pytest.raises(ValueError, match=r"loss_bbox_type='normal' contradicts loss_bbox KFLoss"):
        build_head('kfiou', loss_bbox_type='normal')
    with pytest.raises(ValueError, match=r"loss_bbox_type='kfiou' contradicts loss_bbox SmoothL1Loss"):
        build_head('smooth_l1', loss_bbox_type='kfiou')
    with pytest.raises(ValueError, match='reg_decoded_bbox=True contradicts loss_bbox KFLoss'):
        build_head('kfiou', reg_decoded_bbox=True)
    with pytest.raises(ValueError, match='reg_decoded_bbox=False contradicts loss_bbox GDLoss'):
        build_head('kld', reg_decoded_bbox=False)
    with pytest.raises(ValueError, match="loss_bbox_type must be 'normal' or 'kfiou'"):
        build_head('kld', loss_bbox_type='gd')


def _gt_index(rows, atol):
    """For each row, the ground-truth box it equals (both le90-regularised), or -1."""
    gts = regularize_rboxes(torch.cat(GTS), 'le90')
    d = (regularize_rboxes(rows.detach(), 'le90')[..., None, :] - gts).abs().amax(-1)
    best = d.min(-1)
    return torch.where(best.values < atol, best.indices, torch.full_like(best.indices, -1))


def _anchors(head):
    sizes = [(IMG // s, IMG // s) for s in STRIDES]
    return torch.cat([get_box_tensor(a) for a in head.prior_generator.grid_priors(sizes, device='cpu')])


def _decode_from_every_anchor(head, deltas):
    """(n, A, 5): ``deltas`` (n, 5) applied to each of the head's A anchors."""
    anchors = _anchors(head)
    n, a = len(deltas), len(anchors)
    out = head.bbox_coder.decode(anchors[None].expand(n, a, 5).reshape(-1, 5),
                                 deltas.detach()[:, None].expand(n, a, 5).reshape(-1, 5))
    return get_box_tensor(out).reshape(n, a, 5)


@pytest.mark.parametrize('loss', ['kld', 'kfiou', 'smooth_l1'])
def test_loss_gets_the_declared_input(loss, monkeypatch):
    head = build_head(loss)
    seen = record_box_loss_inputs(head, monkeypatch)
    cls_scores, bbox_preds = head(feats())
    head.loss_by_feat(cls_scores, bbox_preds, gt_instances(), img_metas())
    pred, target = torch.cat(seen['pred']), torch.cat(seen['target'])
    assert target.shape[-1] == 5 and len(target) >= len(torch.cat(GTS))   # every gt has its best anchor
    # every delta the head predicted, and each decoded from its own anchor
    deltas = torch.cat([b.permute(0, 2, 3, 1).reshape(2, -1, 5) for b in bbox_preds], 1).detach()
    decoded = torch.cat([get_box_tensor(head.bbox_coder.decode(_anchors(head), d)) for d in deltas])
    deltas = deltas.reshape(-1, 5)
    if loss == 'kld':
        # decoded: the predictions are decoded boxes, the targets the ground-truth boxes themselves
        assert bool((_gt_index(target, 1e-6) >= 0).all()) and 'pred_decode' not in seen['kw'][0]
        assert rows_in(pred, decoded) and not rows_in(pred, deltas)
        return
    assert rows_in(pred, deltas) and not rows_in(pred, decoded)
    # encoded (and 'both'): the targets are deltas that take one of the anchors onto a ground truth
    assert bool((_gt_index(target, 1.0) < 0).all())
    hits = _gt_index(_decode_from_every_anchor(head, target), 1e-3) >= 0          # (n, A)
    assert bool(hits.any(1).all())
    if loss == 'kfiou':
        # ... plus both decoded boxes, from that same anchor
        targets_decode = torch.cat([k['targets_decode'] for k in seen['kw']])
        pred_decode = torch.cat([k['pred_decode'] for k in seen['kw']])
        assert bool((_gt_index(targets_decode, 1e-3) >= 0).all())
        anchor = hits.float().argmax(1)
        from_pred = _decode_from_every_anchor(head, pred)[torch.arange(len(pred)), anchor]
        torch.testing.assert_close(pred_decode.detach(), from_pred, atol=1e-4, rtol=1e-5)
    else:
        assert seen['kw'][0].keys() <= {'avg_factor'}


@pytest.mark.parametrize('loss', ['kld', 'gwd', 'kfiou', 'smooth_l1'])
def test_loss_predict_and_one_step(loss):
    head = build_head(loss)
    check_step_and_predict(head, {'loss_cls', 'loss_bbox'}, [head.retina_reg, head.retina_cls])


def test_no_positive_anchor_gives_zero_box_loss():
    head = build_head('kld')
    empty = [InstanceData(bboxes=RotatedBoxes(torch.zeros(0, 5)), labels=torch.zeros(0, dtype=torch.long))] * 2
    losses = total(head.loss_by_feat(*head(feats()), empty, img_metas()))
    assert losses['loss_bbox'].item() == 0 and losses['loss_cls'].item() > 0


class _TensorPathHead(RotatedRetinaHead):
    """The former path: the coder decodes to tensors (``use_box_type=False``) and post-processing
    wraps 5-column tensors as RotatedBoxes (what visiondiv's deleted ``RotatedPostProcessMixin`` did)."""

    def _bbox_post_process(self, results, cfg, rescale=False, with_nms=True, img_meta=None):
        assert not isinstance(results.bboxes, BaseBoxes)
        results.bboxes = RotatedBoxes(results.bboxes, clone=False)
        return super()._bbox_post_process(results, cfg, rescale=rescale, with_nms=with_nms, img_meta=img_meta)


def toy_detector(name, use_box_type):
    cfg = Config.fromfile(osp.join(CONFIGS, TOY[name])).model
    cfg.bbox_head.bbox_coder.use_box_type = use_box_type
    cfg.test_cfg.update(score_thr=0.0, nms_pre=200, max_per_img=50)   # random init scores ~0.01: keep boxes
    model = MODELS.build(cfg)
    if not use_box_type:
        model.bbox_head.__class__ = _TensorPathHead
    return model


def toy_batch():
    g = torch.Generator().manual_seed(1)
    inputs = torch.rand(2, 3, IMG, IMG, generator=g) * 255
    samples = []
    for gts in GTS:
        s = DetDataSample(metainfo=dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), batch_input_shape=(IMG, IMG),
                                        ori_shape=(2 * IMG, 2 * IMG), scale_factor=(0.5, 0.5)))
        s.gt_instances = InstanceData(bboxes=RotatedBoxes(gts), labels=torch.arange(len(gts)) % 3)
        samples.append(s)
    return inputs, samples


@pytest.mark.parametrize('name', ['kld', 'kfiou', 'smooth_l1'])
def test_use_box_type_matches_the_tensor_path(name):
    """The toy RetinaNet with ``use_box_type=True`` against the former ``use_box_type=False`` path,
    same weights: identical losses, and identical predictions after rescaling to the original size."""
    torch.manual_seed(0)
    new = toy_detector(name, use_box_type=True)
    old = toy_detector(name, use_box_type=False)
    old.load_state_dict(new.state_dict())
    assert new.bbox_head.bbox_coder.use_box_type and not old.bbox_head.bbox_coder.use_box_type
    inputs, samples = toy_batch()

    l_new = total(new.loss(inputs, copy.deepcopy(samples)))
    l_old = total(old.loss(inputs, copy.deepcopy(samples)))
    assert set(l_new) == set(l_old) == {'loss_cls', 'loss_bbox'}
    for key in l_new:
        assert torch.isfinite(l_new[key]) and l_new[key].item() > 0
        assert torch.equal(l_new[key], l_old[key]), key

    new.eval(), old.eval()
    with torch.no_grad():
        p_new = new.predict(inputs, copy.deepcopy(samples), rescale=True)
        p_old = old.predict(inputs, copy.deepcopy(samples), rescale=True)
        # the head's own output, before the detector turns boxes into tensors for the data sample
        h_new = new.bbox_head.predict(new.extract_feat(inputs), copy.deepcopy(samples), rescale=True)
    for a, b, h in zip(p_new, p_old, h_new):
        a, b = a.pred_instances, b.pred_instances
        assert len(a) > 0 and isinstance(h.bboxes, RotatedBoxes) and torch.equal(h.bboxes.tensor, a.bboxes)
        assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.scores, b.scores) and torch.equal(a.labels, b.labels)
        # rescale=True maps the boxes to the original (2x) image: some centre lies beyond the input size
        assert a.bboxes[:, :2].max() > IMG


@pytest.mark.parametrize('name', ['kld', 'smooth_l1'])
def test_skip_below_gives_the_same_losses(name):
    """The toy configs' ``RBboxOverlaps2D(skip_below=0.4)`` against the full IoU matrix, same weights."""
    torch.manual_seed(0)
    fast = toy_detector(name, use_box_type=True)
    assert fast.bbox_head.assigner.iou_calculator.skip_below == 0.4
    full = toy_detector(name, use_box_type=True)
    full.load_state_dict(fast.state_dict())
    full.bbox_head.assigner.iou_calculator.skip_below = None
    inputs, samples = toy_batch()
    l_fast = total(fast.loss(inputs, copy.deepcopy(samples)))
    l_full = total(full.loss(inputs, copy.deepcopy(samples)))
    for key in l_full:
        assert torch.equal(l_fast[key], l_full[key]), key


def test_skip_below_above_the_assigner_thresholds_is_refused():
    cfg = head_cfg('kld')
    cfg['train_cfg'] = dict(assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.3,
                                          min_pos_iou=0, iou_calculator=dict(type='RBboxOverlaps2D', skip_below=0.4)),
                            sampler=dict(type='mmdet.PseudoSampler'), allowed_border=-1, pos_weight=-1, debug=False)
    with pytest.raises(ValueError, match=r'skip_below=0.4.*neg_iou_thr=0.3'):
        MODELS.build(ConfigDict(cfg))


def test_zero_width_ground_truth_gets_no_encoded_box_loss():
    """A zero-width ground truth encodes to dw = log(0) = -inf; smooth-L1 on the deltas skips it (finite
    loss and gradients) and the other boxes' loss is unchanged."""
    head = build_head('smooth_l1')
    x = feats()
    normal = gt_instances()
    degenerate = gt_instances()
    extra = torch.tensor([[100.0, 30.0, 0.0, 20.0, 0.2]])
    degenerate[1] = InstanceData(bboxes=RotatedBoxes(torch.cat([GTS[1], extra])), labels=torch.tensor([0, 1]))
    losses = total(head.loss_by_feat(*head(x), degenerate, img_metas()))
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())
    assert losses['loss_bbox'].item() > 0
    assert total(head.loss_by_feat(*head(x), normal, img_metas()))['loss_bbox'].item() > 0
