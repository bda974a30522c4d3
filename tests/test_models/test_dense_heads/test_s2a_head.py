"""S2AHead (one anchor per location, filter_bboxes decodes every location) and S2ARefineHead (AlignConv,
ORConv2d + rotation-invariant pooling, rois as anchors), with smooth-L1, KLD and KFIoU, degenerate ground
truth and CPU autocast."""
import pytest
import torch
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import ConfigDict

from visiondiv.models.layers import ORConv2d, RotationInvariantPooling
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from .head_checks import STRIDES, check_step_and_predict, feats, gt_instances, img_metas
from .refine_checks import (LOSSES, TEST_CFG, TRAIN_CFG, check_autocast, check_fp32_decode_under_autocast,
                            check_refine_step, degenerate_gt_instances, predictions, rois_near_gts, sizes)

CODER = dict(type='DeltaXYWHTRBBoxCoder', angle_version='le135', norm_factor=1, edge_swap=False, proj_xy=True)


def init_head(loss='smooth_l1', **kw):
    torch.manual_seed(0)
    cfg = dict(type='S2AHead', num_classes=3, in_channels=16, stacked_convs=1, feat_channels=16,
               anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='le135', scales=[4],
                                     ratios=[1.0], strides=list(STRIDES)),
               bbox_coder=dict(CODER, use_box_type=False), loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True),
               loss_bbox=LOSSES[loss], train_cfg=TRAIN_CFG, test_cfg=TEST_CFG)
    cfg.update(kw)
    return MODELS.build(ConfigDict(cfg))


def refine_head(loss='smooth_l1', **kw):
    torch.manual_seed(0)
    cfg = dict(type='S2ARefineHead', num_classes=3, in_channels=16, stacked_convs=2, feat_channels=16,
               frm_cfg=dict(type='AlignConv', feat_channels=16, kernel_size=3, strides=list(STRIDES)),
               anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=list(STRIDES)),
               bbox_coder=CODER, loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True),
               loss_bbox=LOSSES[loss], train_cfg=TRAIN_CFG, test_cfg=TEST_CFG)
    cfg.update(kw)
    head = MODELS.build(ConfigDict(cfg))
    head.init_weights()
    return head


def test_filter_bboxes_decodes_every_location():
    head = init_head()
    g = torch.Generator().manual_seed(0)
    bbox_preds = [(torch.randn(2, 5, h, w, generator=g) * 0.3).requires_grad_() for h, w in sizes()]
    cls_scores = [torch.randn(2, 3, h, w, generator=g) for h, w in sizes()]
    rois = head.filter_bboxes(cls_scores, bbox_preds)
    anchors = head.prior_generator.grid_priors(sizes(), device='cpu')
    for lvl, (h, w) in enumerate(sizes()):
        for img in range(2):
            got = rois[img][lvl]
            assert got.shape == (h * w, 5) and not got.requires_grad
            deltas = bbox_preds[lvl][img].detach().permute(1, 2, 0).reshape(-1, 5)
            torch.testing.assert_close(got, get_box_tensor(head.bbox_coder.decode(get_box_tensor(anchors[lvl]),
                                                                                  deltas)))
    # zero deltas give the square anchors, side 4 * stride, centred on their locations
    zero = head.filter_bboxes(cls_scores, [torch.zeros_like(b) for b in bbox_preds])
    for lvl, ((h, w), s) in enumerate(zip(sizes(), STRIDES)):
        sides = zero[1][lvl][:, 2:4]
        torch.testing.assert_close(sides, torch.full_like(sides, 4.0 * s))
        assert zero[1][lvl][w + 1, :2].tolist() == [s * 1.0, s * 1.0]     # mmdet's anchors: centre at (j s, i s)


def test_one_anchor_per_location_is_required():
    with pytest.raises(ValueError, match='S2AHead needs one anchor per location'):
        init_head(anchor_generator=dict(type='FakeRotatedAnchorGenerator', angle_version='le135', scales=[4],
                                        ratios=[1.0, 2.0], strides=list(STRIDES)))


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_init_head_loss_predict_and_one_step(loss):
    head = init_head(loss, bbox_coder=dict(CODER, use_box_type=True))
    check_step_and_predict(head, {'loss_cls', 'loss_bbox'}, [head.retina_reg, head.retina_cls])


def test_refine_head_layers_have_mmrotate_names_and_shapes():
    head = refine_head()
    assert isinstance(head.or_conv, ORConv2d) and isinstance(head.or_pool, RotationInvariantPooling)
    shapes = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    assert shapes['or_conv.weight'] == (2, 16, 1, 3, 3) and shapes['or_conv.bias'] == (16,)
    assert shapes['or_conv.indices'] == (1, 3, 3, 8)
    assert shapes['cls_convs.0.conv.weight'] == (16, 2, 3, 3)        # after pooling 8 orientations: 16 / 8
    assert shapes['reg_convs.0.conv.weight'] == (16, 16, 3, 3)
    assert shapes['retina_cls.weight'] == (3, 16, 3, 3) and shapes['retina_reg.weight'] == (5, 16, 3, 3)
    assert shapes['feat_refine_module.deform_conv.weight'] == (16, 16, 3, 3)
    with pytest.raises(ValueError, match='feat_channels must be a multiple of 8'):
        refine_head(feat_channels=12)


def test_classification_sees_the_pooled_features_regression_the_oriented_ones():
    """Rolling the 8 orientations of each oriented channel group leaves the class scores unchanged (the
    pooling is rotation-invariant) and changes the deltas."""
    head = refine_head()
    head.eval()
    x = feats(channels=16)[0]
    oriented = head.or_conv(x)
    rolled = oriented.reshape(2, 2, 8, *oriented.shape[-2:]).roll(1, 2).reshape_as(oriented)

    def towers(feat):
        cls_feat, reg_feat = head.or_pool(feat), feat
        for conv in head.cls_convs:
            cls_feat = conv(cls_feat)
        for conv in head.reg_convs:
            reg_feat = conv(reg_feat)
        return head.retina_cls(cls_feat), head.retina_reg(reg_feat)

    with torch.no_grad():
        cls_a, reg_a = towers(oriented)
        cls_b, reg_b = towers(rolled)
        cls_f, reg_f = head.forward_single(x)
    torch.testing.assert_close(cls_a, cls_b)
    assert not torch.allclose(reg_a, reg_b)
    torch.testing.assert_close(cls_f, cls_a)
    torch.testing.assert_close(reg_f, reg_a)


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_refine_head_losses_and_one_step(loss):
    check_refine_step(refine_head(loss), rois_near_gts())


def test_refine_bboxes_and_predict_from_the_rois():
    head = refine_head()
    rois = rois_near_gts()
    g = torch.Generator().manual_seed(3)
    bbox_preds = [torch.randn(2, 5, h, w, generator=g) * 0.2 for h, w in sizes()]
    cls_scores = [torch.randn(2, 3, h, w, generator=g) for h, w in sizes()]
    new = head.refine_bboxes(cls_scores, bbox_preds, rois=rois)
    for lvl in range(len(STRIDES)):
        deltas = bbox_preds[lvl][1].permute(1, 2, 0).reshape(-1, 5)
        torch.testing.assert_close(new[1][lvl], get_box_tensor(head.bbox_coder.decode(rois[1][lvl], deltas)))
    head.eval()
    with torch.no_grad():
        results = head.predict_by_feat(*head(head.feature_refine(feats(channels=16), rois)), rois=rois,
                                       batch_img_metas=img_metas())
    assert all(isinstance(r.bboxes, RotatedBoxes) and 0 < len(r) <= 50 for r in results)


@pytest.mark.parametrize('loss', ['smooth_l1', 'kld', 'kfiou'])
def test_degenerate_ground_truth_gives_finite_losses(loss):
    check_refine_step(refine_head(loss), rois_near_gts(), gts=degenerate_gt_instances())
    head = init_head(loss)
    losses = head.loss_by_feat(*head(feats()), degenerate_gt_instances(), img_metas())
    total_loss = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total_loss)
    total_loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss', ['smooth_l1', 'kfiou'])
def test_cpu_autocast(loss, dtype):
    check_autocast(init_head(loss), None, dtype)
    check_autocast(refine_head(loss), rois_near_gts(), dtype)


def test_refine_head_needs_rois():
    head = refine_head()
    with pytest.raises(ValueError, match='S2ARefineHead.loss_by_feat needs rois'):
        head.loss_by_feat(*head(feats(channels=16)), gt_instances(), img_metas())


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_filter_bboxes_decodes_in_fp32_under_autocast(dtype):
    check_fp32_decode_under_autocast(init_head().filter_bboxes, *predictions(3, 5), dtype)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_refine_bboxes_decodes_in_fp32_under_autocast(dtype):
    check_fp32_decode_under_autocast(refine_head().refine_bboxes, *predictions(3, 5), dtype, rois=rois_near_gts())
