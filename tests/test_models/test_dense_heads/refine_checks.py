"""Inputs and checks shared by the refine-head tests (R3Det, S2ANet): rois one box per location, a loss and
one SGD step through a refine head, and CPU autocast."""
from typing import List

import torch
from mmengine.structures import InstanceData

from visiondiv.structures.bbox import RotatedBoxes
from .head_checks import GTS, IMG, STRIDES, feats, gt_instances, img_metas, total

TRAIN_CFG = dict(assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                               ignore_iof_thr=-1, iou_calculator=dict(type='RBboxOverlaps2D')),
                 allowed_border=-1, pos_weight=-1, debug=False)
TEST_CFG = dict(nms_pre=200, min_bbox_size=0, score_thr=0.0, nms=dict(type='nms_rotated', iou_threshold=0.1),
                max_per_img=50)
LOSSES = {
    'smooth_l1': dict(type='mmdet.SmoothL1Loss', beta=0.11, loss_weight=1.0),
    'kld': dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1.0, sqrt=False, loss_weight=5.0),
    'kld_v1': dict(type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1.0, loss_weight=1.0),
    'kfiou': dict(type='KFLoss', fun='ln', loss_weight=5.0),
}


def sizes():
    return [(IMG // s, IMG // s) for s in STRIDES]


def rois_near_gts(seed: int = 0, batch: int = 2) -> List[List[torch.Tensor]]:
    """One box per location: a ground-truth box of that image, jittered, at random locations; random boxes
    centred on their location elsewhere (sides 8-40 px)."""
    g = torch.Generator().manual_seed(seed)
    rois = []
    for img in range(batch):
        levels = []
        for (h, w), s in zip(sizes(), STRIDES):
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
            ctr = torch.stack([xs.flatten(), ys.flatten()], 1).float() * s + s / 2
            wh = 8 + 32 * torch.rand(h * w, 2, generator=g)
            angle = (torch.rand(h * w, 1, generator=g) - 0.5) * 3
            boxes = torch.cat([ctr, wh, angle], 1)
            gts = GTS[img % len(GTS)]
            pick = torch.randint(0, h * w, (len(gts) * 3,), generator=g)
            jitter = torch.randn(len(pick), 5, generator=g) * torch.tensor([1.0, 1.0, 1.0, 1.0, 0.02])
            boxes[pick] = gts.repeat(3, 1) + jitter
            levels.append(boxes)
        rois.append(levels)
    return rois


def degenerate_gt_instances() -> List[InstanceData]:
    """Ground truth with a zero-width box and a 1e-4 px high one (plus a normal box)."""
    boxes = [torch.tensor([[40.0, 50.0, 0.0, 20.0, 0.3], [64.0, 64.0, 50.0, 30.0, 1.2]]),
             torch.tensor([[90.0, 80.0, 60.0, 1e-4, -0.7]])]
    return [InstanceData(bboxes=RotatedBoxes(b), labels=torch.arange(len(b)) % 3) for b in boxes]


def check_refine_step(head, rois, gts=None) -> dict:
    """Losses with ``rois`` as anchors: keys, finite and positive; finite gradients for every parameter;
    one SGD step keeps them finite. Returns the first losses (summed over levels)."""
    gts = gts or gt_instances()
    x = feats(channels=head.in_channels)
    losses = total(head.loss_by_feat(*head(head.feature_refine(x, rois)), gts, img_metas(), rois=rois))
    assert set(losses) == {'loss_cls', 'loss_bbox'}
    for value in losses.values():
        assert torch.isfinite(value) and value.item() > 0
    opt = torch.optim.SGD(head.parameters(), lr=0.01)
    opt.zero_grad()
    sum(losses.values()).backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert head.retina_reg.weight.grad.abs().sum() > 0 and head.retina_cls.weight.grad.abs().sum() > 0
    opt.step()
    after = total(head.loss_by_feat(*head(head.feature_refine(x, rois)), gts, img_metas(), rois=rois))
    assert all(torch.isfinite(v) for v in after.values())
    return losses


def check_autocast(head, rois, dtype) -> None:
    """Forward and losses under CPU autocast: finite losses and gradients (losses run in fp32)."""
    x = feats(channels=head.in_channels)
    with torch.autocast('cpu', dtype=dtype):
        outs = head(head.feature_refine(x, rois)) if hasattr(head, 'feature_refine') else head(x)
        kw = dict(rois=rois) if hasattr(head, 'feature_refine') else {}
        losses = total(head.loss_by_feat(*outs, gt_instances(), img_metas(), **kw))
    for value in losses.values():
        assert value.dtype == torch.float32 and torch.isfinite(value)
    sum(losses.values()).backward()
    for name, p in head.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), name


def check_fp32_decode_under_autocast(decode, cls_scores, bbox_preds, dtype, **kwargs) -> None:
    """``decode(cls_scores, bbox_preds, **kwargs)`` (filter_bboxes / refine_bboxes) on predictions in ``dtype``
    under CPU autocast gives fp32 boxes equal to the fp32 decode of the same rounded predictions: the anchors
    (rois) are not rounded to ``dtype`` and the decode runs in fp32."""
    cls_scores = [c.to(dtype) for c in cls_scores]
    bbox_preds = [b.to(dtype) for b in bbox_preds]
    with torch.autocast('cpu', dtype=dtype):
        got = decode(cls_scores, bbox_preds, **kwargs)
    expected = decode([c.float() for c in cls_scores], [b.float() for b in bbox_preds], **kwargs)
    for got_img, exp_img in zip(got, expected):
        for g, e in zip(got_img, exp_img):
            assert g.dtype == torch.float32
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4)


def predictions(num_cls: int, num_box: int):
    """Random (cls_scores, bbox_preds) of a batch of 2, ``num_cls`` and ``num_box`` channels per level."""
    g = torch.Generator().manual_seed(5)
    return ([torch.randn(2, num_cls, h, w, generator=g) for h, w in sizes()],
            [torch.randn(2, num_box, h, w, generator=g) * 0.3 for h, w in sizes()])
