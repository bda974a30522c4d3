"""CIFARResNet: mdistiller's CIFAR ResNets, their parameter counts (the KD tables') and state-dict names."""
import pytest
import torch

from visiondiv.models.backbones import CIFARResNet
from visiondiv.registry import MODELS

#: mdistiller's totals with a 100-way fc (computed from mdistiller/models/cifar/resnet.py); published: resnet8x4
#: 1.23M, resnet32x4 7.43M, resnet56 0.86M, resnet20 0.27M/0.28M, resnet110 1.73M/1.74M
TOTALS = {'resnet8': 83_892, 'resnet14': 181_108, 'resnet20': 278_324, 'resnet32': 472_756, 'resnet44': 667_188,
          'resnet56': 861_620, 'resnet110': 1_736_564, 'resnet8x4': 1_233_540, 'resnet32x4': 7_433_860}


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', sorted(TOTALS))
def test_param_counts(arch):
    net = MODELS.build(dict(type='CIFARResNet', arch=arch))
    assert count(net) + (net.out_channels + 1) * 100 == TOTALS[arch]


def test_published_rounding():
    published = {'resnet8x4': 1.23, 'resnet32x4': 7.43, 'resnet56': 0.86, 'resnet20': 0.28, 'resnet110': 1.74}
    for arch, millions in published.items():
        assert round(TOTALS[arch] / 1e6, 2) == millions


def test_shapes_and_out_indices():
    x = torch.randn(2, 3, 32, 32)
    net = CIFARResNet(arch='resnet8x4', out_indices=(0, 1, -1))
    assert [tuple(f.shape) for f in net(x)] == [(2, 64, 32, 32), (2, 128, 16, 16), (2, 256, 8, 8)]
    assert net.out_channels == 256 and net.stage_channels == (32, 64, 128, 256)
    out = CIFARResNet(depth=20)(x)
    assert isinstance(out, tuple) and len(out) == 1 and out[0].shape == (2, 64, 8, 8)
    assert (out[0] >= 0).all()


def test_mdistiller_names_and_layout():
    net = CIFARResNet(arch='resnet20')
    keys = set(net.state_dict())
    for key in ('conv1.weight', 'bn1.running_mean', 'layer1.2.conv2.weight', 'layer2.0.downsample.0.weight',
                'layer2.0.downsample.1.weight', 'layer3.2.bn2.bias'):
        assert key in keys
    assert 'layer1.0.downsample.0.weight' not in keys  # 16 -> 16, stride 1: identity shortcut
    assert len(net.layer1) == len(net.layer3) == 3
    x4 = CIFARResNet(arch='resnet8x4')
    assert 'layer1.0.downsample.0.weight' in x4.state_dict()  # 32 -> 64


def test_init_like_mdistiller():
    net = CIFARResNet(arch='resnet8')
    assert torch.equal(net.bn1.weight, torch.ones(16)) and torch.equal(net.bn1.bias, torch.zeros(16))
    w = net.layer3[0].conv1.weight  # kaiming normal, fan_out = 64 * 9
    assert abs(w.std().item() - (2 / (64 * 9)) ** 0.5) < 0.01


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch='resnet9'), 'unknown arch'),
    (dict(arch='resnet8', depth=8), 'not both'),
    (dict(), 'give arch'),
    (dict(depth=10), r'6n \+ 2'),
    (dict(depth=8, channels=(16, 32, 64)), '4 positive ints'),
    (dict(depth=8, out_indices=(3, )), 'out_indices'),
    (dict(depth=8, out_indices=(2, -1)), 'distinct'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CIFARResNet(**kwargs)
