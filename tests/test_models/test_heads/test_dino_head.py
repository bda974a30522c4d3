"""DINOHead: SimGCD's projection MLP and cosine classifier (weight-normalised prototypes of norm 1)."""
import numpy as np
import pytest
import torch
from torch import nn

from visiondiv.models.heads import DINOHead
from visiondiv.registry import MODELS


def head_and_input(num_classes=7, in_channels=12, batch=5, seed=0, **kwargs):
    torch.manual_seed(seed)
    head = DINOHead(in_channels, num_classes, hidden_channels=16, bottleneck_channels=6, **kwargs)
    head.init_weights()
    return head, torch.randn(batch, in_channels) * 3


def test_logits_are_cosine_similarities():
    head, x = head_and_input()
    proj, logits = head(x)
    xs, w = x.double().numpy(), head.weight.detach().double().numpy()
    expected = (xs / np.linalg.norm(xs, axis=1, keepdims=True)) @ (w / np.linalg.norm(w, axis=1, keepdims=True)).T
    np.testing.assert_allclose(logits.detach().numpy(), expected, atol=1e-6)
    assert proj.shape == (5, 6) and logits.shape == (5, 7)
    assert logits.abs().max() <= 1 + 1e-6
    # the classifier sees the unprojected feature: a prototype equal to a sample's feature gives it cosine 1
    with torch.no_grad():
        head.weight[3] = x[2] * 0.01
    assert abs(head(x)[1][2, 3].item() - 1) < 1e-6


def test_prototype_scale_does_not_matter():
    head, x = head_and_input()
    before = head(x)[1].detach()
    with torch.no_grad():
        head.weight[0] *= 9.5
        head.weight[4] *= 0.02
    torch.testing.assert_close(head(x)[1], before, atol=1e-6, rtol=0)


def test_equals_simgcd_weight_norm_with_g_fixed_at_1():
    head, x = head_and_input()
    last_layer = nn.utils.parametrizations.weight_norm(nn.Linear(12, 7, bias=False))
    with torch.no_grad():
        last_layer.parametrizations.weight.original0.fill_(1)          # g
        last_layer.parametrizations.weight.original1.copy_(head.weight)  # v
    expected = last_layer(nn.functional.normalize(x, dim=-1))
    torch.testing.assert_close(head(x)[1], expected, atol=1e-6, rtol=0)


def test_prototype_gradient_is_orthogonal_to_the_prototype():
    # logits depend on w / ||w|| only, so d logits / d w is orthogonal to w (the norm cannot drift by gradient)
    head, x = head_and_input()
    head(x)[1].sum().backward()
    w, g = head.weight.detach().double(), head.weight.grad.double()
    assert g.abs().max() > 1e-3
    torch.testing.assert_close((w * g).sum(1), torch.zeros(7, dtype=torch.float64), atol=1e-6, rtol=0)


def test_mlp_layout_and_init():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='DINOHead', in_channels=64, num_classes=10))
    head.init_weights()
    linears = [m for m in head.mlp if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 2048), (2048, 2048), (2048, 256)]
    assert [type(m).__name__ for m in head.mlp] == ['Linear', 'GELU', 'Linear', 'GELU', 'Linear']
    for m in linears:
        assert torch.count_nonzero(m.bias) == 0
    w = head.mlp[2].weight.detach()
    assert abs(w.std().item() - 0.02) < 0.0005 and abs(w.mean().item()) < 0.0005
    assert head.weight.shape == (10, 64)
    one = DINOHead(8, 3, num_layers=1, bottleneck_channels=4)
    assert isinstance(one.mlp, nn.Linear) and one(torch.randn(2, 8))[0].shape == (2, 4)
    bn = DINOHead(8, 3, num_layers=3, hidden_channels=16, use_bn=True)
    assert [type(m).__name__ for m in bn.mlp] == ['Linear', 'BatchNorm1d', 'GELU', 'Linear', 'BatchNorm1d', 'GELU',
                                                  'Linear']


def test_refusals():
    for bad in (dict(num_classes=0), dict(num_layers=0), dict(in_channels=2.5)):
        args = {**dict(in_channels=8, num_classes=3), **bad}
        with pytest.raises(ValueError, match=next(iter(bad))):
            DINOHead(**args)
