"""Oriented R-CNN and Rotated Faster R-CNN toy configs end to end: loss (finite, with gradients) and predict."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

from tests.script_loader import ROOT
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes

CONFIGS = {
    'oriented': 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
    'oriented-kfiou': 'configs/oriented_rcnn/oriented-rcnn-le90_r18-tiny_fpn_kfiou-ln_16e_toy-dota.py',
    'faster': 'configs/rotated_faster_rcnn/rotated-faster-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py',
}
SIZE = 96


def batch():
    g = torch.Generator().manual_seed(0)
    gts = [torch.tensor([[30., 40., 36., 14., 0.4], [66., 60., 30., 20., -1.0]]),
           torch.tensor([[48., 48., 50., 18., 1.3]])]
    inputs, samples = [], []
    for b in gts:
        inputs.append(torch.randint(0, 255, (3, SIZE, SIZE), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), scale_factor=(1., 1.),
                                        pad_shape=(SIZE, SIZE)))
        s.gt_instances = InstanceData(bboxes=RotatedBoxes(b), labels=torch.arange(len(b)) % 3)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('which', sorted(CONFIGS))
def test_loss_and_predict(which):
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS[which]))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = model.data_preprocessor(batch(), training=True)
    losses = model(**data, mode='loss')
    keys = {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox'}
    assert keys <= set(losses)
    total = sum(v.sum() for k, v in losses.items() if 'loss' in k for v in (v if isinstance(v, list) else [v]))
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.roi_head.bbox_head.fc_reg.weight.grad.abs().sum() > 0
    assert model.rpn_head.rpn_reg.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch(), training=False)
        preds = model(**data, mode='predict')
    assert len(preds) == 2
    for p in preds:
        boxes = p.pred_instances.bboxes
        boxes = boxes.tensor if isinstance(boxes, RotatedBoxes) else boxes
        assert boxes.shape[-1] == 5 and len(boxes) == len(p.pred_instances.scores) <= 200
        assert torch.isfinite(boxes).all() and bool((p.pred_instances.labels < 3).all())
