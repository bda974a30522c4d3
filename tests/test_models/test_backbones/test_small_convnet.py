"""SmallConvNet: (B, widths[-1]) features for 8x8 digits and 28x28 MNIST, gradients to every parameter."""
import pytest
import torch

from visiondiv.models.backbones import SmallConvNet
from visiondiv.registry import MODELS


@pytest.mark.parametrize('size, channels', [(8, 1), (28, 1), (32, 3), (7, 1)])
def test_shapes(size, channels):
    net = MODELS.build(dict(type='SmallConvNet', in_channels=channels, widths=(8, 16, 24)))
    net.init_weights()
    out = net(torch.randn(4, channels, size, size))
    assert out.shape == (4, 24) and net.out_channels == 24
    # global average pooling of ReLU outputs: non-negative features
    assert (out >= 0).all() and out.sum() > 0


def test_pooling_schedule():
    net = SmallConvNet(widths=(8, 16, 24))
    maps = net.layers[:-1](torch.randn(2, 1, 28, 28))  # all but the last conv block: after two poolings
    assert maps.shape == (2, 16, 7, 7)                    # 28 -> 14 -> 7, ceil_mode keeps odd borders
    assert net.layers[:-1](torch.randn(2, 1, 8, 8)).shape == (2, 16, 2, 2)
    deeper = SmallConvNet(widths=(4, 4), convs_per_stage=2)
    assert sum(type(m).__name__ == 'ConvModule' for m in deeper.layers) == 4


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    net = SmallConvNet(in_channels=1, widths=(8, 16))
    net.train()
    net(torch.randn(6, 1, 8, 8)).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # eval mode uses the running BN statistics: one sample gives the same features alone or in a batch
    net.eval()
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(net(x)[:1], net(x[:1]))


def test_refusals():
    with pytest.raises(ValueError, match='widths'):
        SmallConvNet(widths=())
    with pytest.raises(ValueError, match='widths'):
        SmallConvNet(widths=(8, 0))
    with pytest.raises(ValueError, match='convs_per_stage'):
        SmallConvNet(convs_per_stage=0)
