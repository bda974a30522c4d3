"""WideResNet: mdistiller's CIFAR WRN-d-k, parameter counts of the KD tables, pre-activation layout."""
import pytest
import torch

from visiondiv.models.backbones import WideResNet
from visiondiv.registry import MODELS

#: mdistiller's totals with a 100-way fc (mdistiller/models/cifar/wrn.py); published: WRN-40-2 2.26M, WRN-16-2 0.70M
TOTALS = {(16, 1): 180_916, (16, 2): 703_284, (40, 1): 569_780, (40, 2): 2_255_156}


@pytest.mark.parametrize('depth, k', sorted(TOTALS))
def test_param_counts(depth, k):
    net = MODELS.build(dict(type='WideResNet', depth=depth, widen_factor=k))
    assert sum(p.numel() for p in net.parameters()) + (net.out_channels + 1) * 100 == TOTALS[depth, k]
    assert net.out_channels == 64 * k


def test_published_rounding():
    assert round(TOTALS[40, 2] / 1e6, 2) == 2.26 and round(TOTALS[16, 2] / 1e6, 2) == 0.70


def test_shapes_names_and_final_activation():
    net = WideResNet(16, 2, out_indices=(0, 1, 2))
    feats = net(torch.randn(2, 3, 32, 32))
    assert [tuple(f.shape) for f in feats] == [(2, 32, 32, 32), (2, 64, 16, 16), (2, 128, 8, 8)]
    assert (feats[2] >= 0).all() and (feats[1] < 0).any()  # last stage after BN-ReLU; the others raw
    keys = set(net.state_dict())
    for key in ('conv1.weight', 'block1.layer.0.convShortcut.weight', 'block1.layer.1.bn1.weight',
                'block3.layer.1.conv2.weight', 'bn1.running_var'):
        assert key in keys
    assert 'block1.layer.1.convShortcut.weight' not in keys


def test_dropout_only_in_training():
    net = WideResNet(16, 1, drop_rate=0.5).eval()
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(net(x)[0], net(x)[0])


@pytest.mark.parametrize('kwargs, match', [(dict(depth=18), r'6n \+ 4'), (dict(widen_factor=0), 'widen_factor'),
                                           (dict(drop_rate=1.0), 'drop_rate'),
                                           (dict(out_indices=(5, )), 'out_indices')])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WideResNet(**kwargs)
