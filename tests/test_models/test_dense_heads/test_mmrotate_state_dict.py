"""An mmrotate checkpoint of Rotated RetinaNet / Rotated FCOS (R50-FPN, DOTA, 15 classes) must load
into our models with no missing or unexpected keys and the same shapes.

The expected keys are written here from mmrotate's published model structure (ResNet-50 with
bottleneck blocks [3, 4, 6, 3], mmdet FPN, and the head layer names of mmrotate's
``RotatedRetinaHead`` / ``RotatedFCOSHead``), not read from our modules.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from visiondiv.registry import MODELS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models')
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def resnet50_keys():
    keys = {'backbone.conv1.weight': (64, 3, 7, 7)}
    keys.update({f'backbone.bn1.{k}': None for k in BN})
    in_ch = 64
    for layer, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512)), 1):
        for b in range(blocks):
            p = f'backbone.layer{layer}.{b}'
            keys[f'{p}.conv1.weight'] = (width, in_ch if b == 0 else width * 4, 1, 1)
            keys[f'{p}.conv2.weight'] = (width, width, 3, 3)
            keys[f'{p}.conv3.weight'] = (width * 4, width, 1, 1)
            for bn in ('bn1', 'bn2', 'bn3'):
                keys.update({f'{p}.{bn}.{k}': None for k in BN})
            if b == 0:
                keys[f'{p}.downsample.0.weight'] = (width * 4, in_ch, 1, 1)
                keys.update({f'{p}.downsample.1.{k}': None for k in BN})
        in_ch = width * 4
    return keys


def fpn_keys(num_outs=5):
    keys = {}
    for i, c in enumerate((512, 1024, 2048)):
        keys[f'neck.lateral_convs.{i}.conv.weight'] = (256, c, 1, 1)
        keys[f'neck.lateral_convs.{i}.conv.bias'] = (256,)
    for i in range(num_outs):
        keys[f'neck.fpn_convs.{i}.conv.weight'] = None
        keys[f'neck.fpn_convs.{i}.conv.bias'] = (256,)
    return keys


def retina_head_keys(num_classes=15, num_anchors=9):
    keys = {}
    for branch in ('cls_convs', 'reg_convs'):
        for i in range(4):
            keys[f'bbox_head.{branch}.{i}.conv.weight'] = (256, 256, 3, 3)
            keys[f'bbox_head.{branch}.{i}.conv.bias'] = (256,)
    keys['bbox_head.retina_cls.weight'] = (num_anchors * num_classes, 256, 3, 3)
    keys['bbox_head.retina_cls.bias'] = (num_anchors * num_classes,)
    keys['bbox_head.retina_reg.weight'] = (num_anchors * 5, 256, 3, 3)
    keys['bbox_head.retina_reg.bias'] = (num_anchors * 5,)
    return keys


def fcos_head_keys(num_classes=15):
    keys = {}
    for branch in ('cls_convs', 'reg_convs'):
        for i in range(4):
            keys[f'bbox_head.{branch}.{i}.conv.weight'] = (256, 256, 3, 3)   # GN: no conv bias
            keys[f'bbox_head.{branch}.{i}.gn.weight'] = (256,)
            keys[f'bbox_head.{branch}.{i}.gn.bias'] = (256,)
    for name, out in (('conv_cls', num_classes), ('conv_reg', 4), ('conv_centerness', 1), ('conv_angle', 1)):
        keys[f'bbox_head.{name}.weight'] = (out, 256, 3, 3)
        keys[f'bbox_head.{name}.bias'] = (out,)
    keys.update({f'bbox_head.scales.{i}.scale': () for i in range(5)})
    keys['bbox_head.scale_angle.scale'] = ()
    return keys


@pytest.mark.parametrize('config,head_keys', [('rotated_retinanet.py', retina_head_keys),
                                              ('rotated_fcos.py', fcos_head_keys)])
def test_mmrotate_checkpoint_keys_load(config, head_keys):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    model = MODELS.build(cfg.model)
    expected = {**resnet50_keys(), **fpn_keys(), **head_keys()}
    ours = model.state_dict()
    assert set(ours) - set(expected) == set(), 'unexpected keys'
    assert set(expected) - set(ours) == set(), 'missing keys'
    for key, shape in expected.items():
        if shape is not None:
            assert tuple(ours[key].shape) == shape, key
    # a checkpoint with exactly these keys loads strictly
    fake = {k: torch.zeros_like(v) for k, v in ours.items()}
    result = model.load_state_dict(fake, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
