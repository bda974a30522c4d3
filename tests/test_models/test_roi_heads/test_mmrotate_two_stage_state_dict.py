"""An mmrotate checkpoint of Oriented R-CNN / Rotated Faster R-CNN (R50-FPN, DOTA, 15 classes) must load
into the models built from our R50 DOTA configs with no missing or unexpected keys and the same shapes.

The expected keys are written here from mmrotate's model structure (ResNet-50, mmdet FPN with 4 laterals
and 4 output convs, 5 outputs by max-pooling; mmdet's RPN head ``rpn_conv``/``rpn_cls``/``rpn_reg`` with 3
anchors, 6 deltas each for the oriented RPN, 4 for mmdet's; mmdet's Shared2FCBBoxHead ``shared_fcs.0/1``,
``fc_cls`` (15 + 1) and a class-agnostic ``fc_reg`` (5)), not read from our modules.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.test_models.test_dense_heads.test_mmrotate_state_dict import resnet50_keys
from visiondiv.registry import MODELS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs')


def fpn_keys():
    keys = {}
    for i, c in enumerate((256, 512, 1024, 2048)):
        keys[f'neck.lateral_convs.{i}.conv.weight'] = (256, c, 1, 1)
        keys[f'neck.lateral_convs.{i}.conv.bias'] = (256,)
        keys[f'neck.fpn_convs.{i}.conv.weight'] = (256, 256, 3, 3)
        keys[f'neck.fpn_convs.{i}.conv.bias'] = (256,)
    return keys


def two_stage_keys(reg_per_anchor, num_classes=15, num_anchors=3):
    keys = {'rpn_head.rpn_conv.weight': (256, 256, 3, 3), 'rpn_head.rpn_conv.bias': (256,),
            'rpn_head.rpn_cls.weight': (num_anchors, 256, 1, 1), 'rpn_head.rpn_cls.bias': (num_anchors,),
            'rpn_head.rpn_reg.weight': (num_anchors * reg_per_anchor, 256, 1, 1),
            'rpn_head.rpn_reg.bias': (num_anchors * reg_per_anchor,)}
    p = 'roi_head.bbox_head'
    keys.update({f'{p}.shared_fcs.0.weight': (1024, 256 * 7 * 7), f'{p}.shared_fcs.0.bias': (1024,),
                 f'{p}.shared_fcs.1.weight': (1024, 1024), f'{p}.shared_fcs.1.bias': (1024,),
                 f'{p}.fc_cls.weight': (num_classes + 1, 1024), f'{p}.fc_cls.bias': (num_classes + 1,),
                 f'{p}.fc_reg.weight': (5, 1024), f'{p}.fc_reg.bias': (5,)})
    return keys


@pytest.mark.parametrize('config,reg_per_anchor', [
    ('oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py', 6),
    ('rotated_faster_rcnn/rotated-faster-rcnn-le90_r50_fpn_1x_dota.py', 4)])
def test_mmrotate_checkpoint_keys_load(config, reg_per_anchor):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    model = MODELS.build(cfg.model)
    expected = {**resnet50_keys(), **fpn_keys(), **two_stage_keys(reg_per_anchor)}
    ours = model.state_dict()
    assert set(ours) - set(expected) == set(), 'unexpected keys'
    assert set(expected) - set(ours) == set(), 'missing keys'
    for key, shape in expected.items():
        if shape is not None:
            assert tuple(ours[key].shape) == shape, key
    fake = {k: torch.zeros_like(v) for k, v in ours.items()}
    result = model.load_state_dict(fake, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
