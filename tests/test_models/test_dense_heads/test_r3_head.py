"""R3Head (filter_bboxes: the best anchor per location) and R3RefineHead (rois as anchors, refine_bboxes,
FRM), with smooth-L1, KLD (both forms) and KFIoU, degenerate ground truth and CPU autocast."""
import pytest
import torch
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import ConfigDict

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes, regularize_rboxes
from .head_checks import IMG, STRIDES, check_step_and_predict, feats, gt_instances, img_metas, record_box_loss_inputs
from .refine_checks import (LOSSES, TEST_CFG, TRAIN_CFG, check_autocast, check_fp32_decode_under_autocast,
                            check_refine_step, degenerate_gt_instances, predictions, rois_near_gts, sizes)

CODER = dict(type='DeltaXYWHTRBBoxCoder', angle_version='oc', norm_factor=None, edge_swap=False, proj_xy=False)


def init_head(loss='smooth_l1', **kw):
    torch.manual_seed(0)
    cfg = dict(type='R3Head', num_classes=3, in_channels=16, stacked_convs=1, feat_channels=16,
               anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='oc', octave_base_scale=4,
                                     scales_per_octave=1, ratios=[1.0, 0.5, 2.0], strides=list(STRIDES)),
               bbox_coder=dict(CODER, use_box_type=False), loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True),
               loss_bbox=LOSSES[loss], train_cfg=TRAIN_CFG, test_cfg=TEST_CFG)
    cfg.update(kw)
    return MODELS.build(ConfigDict(cfg))


def refine_head(loss='smooth_l1', **kw):
    torch.manual_seed(0)
    cfg = dict(type='R3RefineHead', num_classes=3, in_channels=16, stacked_convs=1, feat_channels=16,
               frm_cfg=dict(type='FRM', feat_channels=16, strides=list(STRIDES)),
               anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=list(STRIDES)),
               bbox_coder=CODER, loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True),
               loss_bbox=LOSSES[loss], train_cfg=ConfigDict(TRAIN_CFG, assigner=dict(TRAIN_CFG['assigner'],
                                                                                     pos_iou_thr=0.6,
                                                                                     neg_iou_thr=0.5)),
               test_cfg=TEST_CFG)
    cfg.update(kw)
    head = MODELS.build(ConfigDict(cfg))
    head.init_weights()
    return head


def test_filter_bboxes_takes_the_anchor_with_the_highest_class_score():
    """Hand-built scores: at each location one anchor holds the largest logit of any class (mmrotate's rule:
    max over classes, then argmax over anchors), including a location where another anchor has the larger
    sum; the returned box is that anchor decoded with its own deltas, detached."""
    head = init_head()
    a, c = head.num_base_priors, head.cls_out_channels
    assert (a, c) == (3, 3)
    g = torch.Generator().manual_seed(0)
    cls_scores, bbox_preds, best = [], [], []
    for h, w in sizes():
        score = torch.rand(2, h * w, a, c, generator=g) - 5            # every logit in [-5, -4)
        pick = torch.randint(0, a, (2, h * w), generator=g)
        cls = torch.randint(0, c, (2, h * w), generator=g)
        score[torch.arange(2)[:, None], torch.arange(h * w), pick, cls] = 3.0
        # location 0: anchor `pick` has one logit 3 (sum about -6); another anchor has two logits of 2.5
        other = (pick[:, 0] + 1) % a
        score[torch.arange(2), 0, other, :2] = 2.5
        cls_scores.append(score.reshape(2, h, w, a * c).permute(0, 3, 1, 2).requires_grad_())
        bbox_preds.append((torch.randn(2, a * 5, h, w, generator=g) * 0.3).requires_grad_())
        best.append(pick)
    rois = head.filter_bboxes(cls_scores, bbox_preds)
    anchors = [get_box_tensor(t) for t in head.prior_generator.grid_priors(sizes(), device='cpu')]
    assert len(rois) == 2 and all(len(r) == len(STRIDES) for r in rois)
    for lvl, ((h, w), anchor, pred, pick) in enumerate(zip(sizes(), anchors, bbox_preds, best)):
        anchor = anchor.reshape(h * w, a, 5)
        deltas = pred.detach().permute(0, 2, 3, 1).reshape(2, h * w, a, 5)
        for img in range(2):
            got = rois[img][lvl]
            assert got.shape == (h * w, 5) and not got.requires_grad and isinstance(got, torch.Tensor)
            idx = torch.arange(h * w)
            expected = head.bbox_coder.decode(anchor[idx, pick[img]], deltas[img, idx, pick[img]])
            torch.testing.assert_close(got, expected)
            # and not the anchor with the larger class sum at location 0
            wrong = head.bbox_coder.decode(anchor[0, (pick[img, 0] + 1) % a][None],
                                           deltas[img, 0, (pick[img, 0] + 1) % a][None])
            assert not torch.allclose(got[:1], wrong)


def test_filter_bboxes_with_zero_deltas_returns_anchors_and_tensors_for_box_type_coders():
    head = init_head(bbox_coder=dict(CODER, use_box_type=True))
    cls_scores = [torch.zeros(1, 9, h, w) for h, w in sizes()]
    bbox_preds = [torch.zeros(1, 15, h, w) for h, w in sizes()]
    rois = head.filter_bboxes(cls_scores, bbox_preds)
    for roi, anchor, (h, w) in zip(rois[0], head.prior_generator.grid_priors(sizes(), device='cpu'), sizes()):
        # ties go to the first anchor; zero deltas decode to the anchor itself
        assert type(roi) is torch.Tensor
        torch.testing.assert_close(roi, get_box_tensor(anchor).reshape(h * w, 3, 5)[:, 0])


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_init_head_loss_predict_and_one_step(loss):
    head = init_head(loss, bbox_coder=dict(CODER, use_box_type=True))
    check_step_and_predict(head, {'loss_cls', 'loss_bbox'}, [head.retina_reg, head.retina_cls])


def test_refine_bboxes_decodes_each_location_from_its_roi():
    head = refine_head()
    rois = rois_near_gts()
    g = torch.Generator().manual_seed(3)
    bbox_preds = [(torch.randn(2, 5, h, w, generator=g) * 0.2).requires_grad_() for h, w in sizes()]
    cls_scores = [torch.randn(2, 3, h, w, generator=g) for h, w in sizes()]
    new = head.refine_bboxes(cls_scores, bbox_preds, rois=rois)
    for lvl, (h, w) in enumerate(sizes()):
        for img in range(2):
            deltas = bbox_preds[lvl][img].detach().permute(1, 2, 0).reshape(-1, 5)
            expected = get_box_tensor(head.bbox_coder.decode(rois[img][lvl], deltas))
            assert not new[img][lvl].requires_grad
            torch.testing.assert_close(new[img][lvl], expected)
    # zero deltas: the rois come back (oc-regularised; these are in range up to the angle's period)
    zero = head.refine_bboxes(cls_scores, [torch.zeros_like(b) for b in bbox_preds], rois=rois)
    for img in range(2):
        for got, roi in zip(zero[img], rois[img]):
            torch.testing.assert_close(RotatedBoxes(got).areas, RotatedBoxes(roi).areas, rtol=1e-4, atol=1e-3)
            torch.testing.assert_close(got[:, :2], roi[:, :2])


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kld_v1', 'kfiou'])
def test_refine_head_losses_and_one_step(loss):
    head = refine_head(loss)
    rois = rois_near_gts()
    check_refine_step(head, rois)
    assert head.bboxes_as_anchors is None                 # the rois are not kept after the loss


def test_refine_head_assigns_against_the_rois(monkeypatch):
    """The targets are encoded against the rois: with every roi far from the boxes nothing is positive
    (min_pos_iou 0.3 here: no low-quality match at IoU 0); one roi equal to a ground-truth box becomes its
    only positive anchor, with zero target deltas."""
    train_cfg = ConfigDict(TRAIN_CFG, assigner=dict(TRAIN_CFG['assigner'], pos_iou_thr=0.6, neg_iou_thr=0.5,
                                                    min_pos_iou=0.3))
    head = refine_head(train_cfg=train_cfg)
    seen = record_box_loss_inputs(head, monkeypatch)
    x = feats()
    far = [[torch.tensor([[-500.0, -500.0, 4.0, 4.0, 0.1]]).repeat(h * w, 1) for h, w in sizes()] for _ in range(2)]
    losses = head.loss_by_feat(*head(x), gt_instances(), img_metas(), rois=far)
    assert sum(losses['loss_bbox']).item() == 0 and sum(len(t) for t in seen['target']) == 0
    exact = [[level.clone() for level in img] for img in far]
    # the coder regularises the ground truth (not the anchors) to oc before encoding
    exact[0][1][5] = regularize_rboxes(gt_instances()[0].bboxes.tensor[:1], 'oc')[0]
    losses = head.loss_by_feat(*head(x), gt_instances(), img_metas(), rois=exact)
    targets = torch.cat(seen['target'])
    assert targets.shape == (1, 5) and sum(losses['loss_bbox']).item() > 0
    torch.testing.assert_close(targets, torch.zeros(1, 5), atol=1e-5, rtol=0)


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_degenerate_ground_truth_gives_finite_losses(loss):
    check_refine_step(refine_head(loss), rois_near_gts(), gts=degenerate_gt_instances())
    head = init_head(loss)
    x = feats()
    losses = head.loss_by_feat(*head(x), degenerate_gt_instances(), img_metas())
    total_loss = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total_loss)
    total_loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_cpu_autocast(loss, dtype):
    check_autocast(init_head(loss), None, dtype)
    check_autocast(refine_head(loss), rois_near_gts(), dtype)


def test_refine_head_predicts_rotated_boxes_from_the_rois():
    head = refine_head()
    head.eval()
    rois = rois_near_gts()
    with torch.no_grad():
        outs = head(head.feature_refine(feats(), rois))
        results = head.predict_by_feat(*outs, rois=rois, batch_img_metas=img_metas(), rescale=False)
    assert len(results) == 2
    for res in results:
        assert isinstance(res.bboxes, RotatedBoxes) and 0 < len(res) <= 50
        assert bool(((res.scores >= 0) & (res.scores <= 1)).all())
    # fp16 outputs are predicted in fp32
    with torch.no_grad():
        half = head.predict_by_feat(*[[o.half() for o in out] for out in outs],
                                    rois=[[r.half() for r in img] for img in rois], batch_img_metas=img_metas())
    assert all(res.bboxes.tensor.dtype == torch.float32 for res in half)


def test_bad_configs_and_calls_are_named():
    with pytest.raises(ValueError, match='R3RefineHead needs frm_cfg'):
        refine_head(frm_cfg=None)
    with pytest.raises(ValueError, match='anchor_generator must give one prior per location'):
        refine_head(anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='oc', scales=[4],
                                          ratios=[1.0, 2.0], strides=list(STRIDES)))
    head = refine_head()
    x = feats()
    with pytest.raises(ValueError, match='loss_by_feat needs rois'):
        head.loss_by_feat(*head(x), gt_instances(), img_metas())
    with pytest.raises(ValueError, match='rois hold'):
        head.loss_by_feat(*head(x), gt_instances(), img_metas(), rois=[r[:2] + r[:1] for r in rois_near_gts()])
    with pytest.raises(ValueError, match='predict_by_feat needs rois'):
        head.predict_by_feat(*head(x), batch_img_metas=img_metas())
    assert IMG == 128


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_filter_bboxes_decodes_in_fp32_under_autocast(dtype):
    check_fp32_decode_under_autocast(init_head().filter_bboxes, *predictions(9, 15), dtype)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_refine_bboxes_decodes_in_fp32_under_autocast(dtype):
    check_fp32_decode_under_autocast(refine_head().refine_bboxes, *predictions(3, 5), dtype, rois=rois_near_gts())
