"""An mmrotate RTMDet-R tiny checkpoint (CSPNeXt + CSPNeXtPAFPN + RotatedRTMDetSepBNHead, DOTA, 15 classes) loads
into the model of ``configs/rotated_rtmdet/rotated_rtmdet_tiny-3x-dota.py`` with no missing or unexpected keys.

The head keys are written here by hand from mmrotate's ``RotatedRTMDetSepBNHead`` (per level: two stacked
ConvModules per branch, conv without bias + (Sync)BN; 1x1 ``rtm_cls``/``rtm_reg``/``rtm_ang``; no ``scales``, no
objectness). CSPNeXt and CSPNeXtPAFPN are mmdet's own modules in both libraries; their keys are checked by hand
only where the tiny sizes show (stem, stage downsampling, SPP, PAFPN reduce/out convs).
"""
import os.path as osp

import torch
from mmengine.config import Config

from visiondiv.registry import MODELS

CONFIG = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', 'rotated_rtmdet',
                  'rotated_rtmdet_tiny-3x-dota.py')
BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def conv_module(prefix, out_ch, in_ch, k):
    keys = {f'{prefix}.conv.weight': (out_ch, in_ch, k, k)}
    keys.update({f'{prefix}.bn.{n}': (out_ch,) if n != 'num_batches_tracked' else () for n in BN})
    return keys


def head_keys(num_classes=15, ch=96, levels=3, stacked=2):
    keys = {}
    for lvl in range(levels):
        for branch in ('cls_convs', 'reg_convs'):
            for i in range(stacked):
                keys.update(conv_module(f'bbox_head.{branch}.{lvl}.{i}', ch, ch, 3))
        for name, out in (('rtm_cls', num_classes), ('rtm_reg', 4), ('rtm_ang', 1)):
            keys[f'bbox_head.{name}.{lvl}.weight'] = (out, ch, 1, 1)
            keys[f'bbox_head.{name}.{lvl}.bias'] = (out,)
    return keys


def backbone_neck_keys():
    """CSPNeXt P5 at widen 0.375 (stem 12/12/24, stages 48/96/192/384) and the PAFPN on (96, 192, 384) -> 96."""
    keys = {}
    keys.update(conv_module('backbone.stem.0', 12, 3, 3))
    keys.update(conv_module('backbone.stem.1', 12, 12, 3))
    keys.update(conv_module('backbone.stem.2', 24, 12, 3))
    for stage, (cin, cout) in enumerate(((24, 48), (48, 96), (96, 192), (192, 384)), 1):
        keys.update(conv_module(f'backbone.stage{stage}.0', cout, cin, 3))      # stride-2 downsampling
    keys.update(conv_module('backbone.stage4.1.conv1', 192, 384, 1))              # SPPBottleneck
    keys.update(conv_module('backbone.stage4.1.conv2', 384, 192 * 4, 1))
    keys.update(conv_module('neck.reduce_layers.0', 192, 384, 1))
    keys.update(conv_module('neck.reduce_layers.1', 96, 192, 1))
    for i, c in enumerate((96, 192, 384)):
        keys.update(conv_module(f'neck.out_convs.{i}', 96, c, 3))
    return keys


def test_mmrotate_rtmdet_tiny_keys_load():
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    expected_head = head_keys()
    assert {k: v for k, v in own.items() if k.startswith('bbox_head.')} == expected_head
    for key, shape in backbone_neck_keys().items():
        assert own.get(key) == shape, key
    # an mmrotate checkpoint: the hand-written head plus the (mmdet) backbone/neck keys
    g = torch.Generator().manual_seed(0)
    ckpt = {k: torch.randn(v, generator=g) for k, v in expected_head.items() if not k.endswith('num_batches_tracked')}
    ckpt.update({k: torch.tensor(7) for k in expected_head if k.endswith('num_batches_tracked')})
    ckpt.update({k: v.clone() for k, v in model.state_dict().items() if not k.startswith('bbox_head.')})
    result = model.load_state_dict(ckpt, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(model.bbox_head.rtm_ang[2].weight, ckpt['bbox_head.rtm_ang.2.weight'])
    # the shared convs read the level-0 weights: an mmrotate checkpoint stores the same tensor under each level
    assert model.bbox_head.cls_convs[1][0].conv.weight is model.bbox_head.cls_convs[0][0].conv.weight
