"""SmoothFocalLoss (CSL's angle loss): values against a float64 reference written here, weights and reductions,
finite gradients under autocast, refused arguments."""
import math

import pytest
import torch

from visiondiv.registry import MODELS


def reference(pred, target, gamma=2.0, alpha=0.25):
    """Element-wise, in float64: BCE(x, t) * (alpha t + (1 - alpha)(1 - t)) * ((1 - p) t + p (1 - t)) ** gamma."""
    out = []
    for x, t in zip(pred.double().flatten().tolist(), target.double().flatten().tolist()):
        p = 1 / (1 + math.exp(-x))
        bce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
        out.append(bce * (alpha * t + (1 - alpha) * (1 - t)) * ((1 - p) * t + p * (1 - t)) ** gamma)
    return torch.tensor(out, dtype=torch.float64).reshape(pred.shape)


def inputs():
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(4, 6, generator=g) * 3
    target = torch.rand(4, 6, generator=g)
    target[0] = torch.tensor([0.0, 1.0, 0.5, math.exp(-1) / 2, 0.0, 1.0])
    return pred, target


@pytest.mark.parametrize('gamma,alpha', [(2.0, 0.25), (0.0, 0.5), (1.5, 0.9)])
def test_values_match_the_float64_reference(gamma, alpha):
    pred, target = inputs()
    loss = MODELS.build(dict(type='SmoothFocalLoss', gamma=gamma, alpha=alpha, reduction='none', loss_weight=1.0))
    torch.testing.assert_close(loss(pred, target).double(), reference(pred, target, gamma, alpha), rtol=1e-5,
                               atol=1e-7)


def test_weights_reductions_and_loss_weight():
    pred, target = inputs()
    ref = reference(pred, target)
    loss = MODELS.build(dict(type='SmoothFocalLoss', loss_weight=0.2))
    assert loss(pred, target).item() == pytest.approx(0.2 * ref.mean().item(), rel=1e-5)
    assert loss(pred, target, avg_factor=3.0).item() == pytest.approx(0.2 * ref.sum().item() / 3, rel=1e-5)
    assert loss(pred, target, reduction_override='sum').item() == pytest.approx(0.2 * ref.sum().item(), rel=1e-5)
    row_w = torch.tensor([1.0, 0.0, 2.0, 0.5])
    assert loss(pred, target, weight=row_w, reduction_override='sum').item() == pytest.approx(
        0.2 * (ref * row_w.double()[:, None]).sum().item(), rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_finite_gradients_under_autocast(dtype):
    pred, target = inputs()
    pred = (pred * 10).requires_grad_()        # saturated logits
    loss = MODELS.build(dict(type='SmoothFocalLoss'))
    with torch.autocast('cpu', dtype=dtype):
        value = loss(pred, target)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(pred.grad).all()


@pytest.mark.parametrize('kw,key', [(dict(gamma=-1.0), 'gamma'), (dict(alpha=1.5), 'alpha'),
                                    (dict(reduction='avg'), 'reduction')])
def test_bad_arguments_are_named(kw, key):
    with pytest.raises(ValueError, match=f'SmoothFocalLoss: {key}'):
        MODELS.build(dict(type='SmoothFocalLoss', **kw))
