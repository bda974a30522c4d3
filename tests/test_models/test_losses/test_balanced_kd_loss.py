"""BalancedKDLoss against a float64 loop reference of the assumed BD-KD formula."""
import math

import numpy as np
import pytest
import torch

from visiondiv.models.losses import BalancedKDLoss, KDLoss
from visiondiv.registry import MODELS
from .kd_reference import DEGENERATE_CASES, degenerate_logits, entropy, kl, random_logits, softmax


def ref_bdkd(s, t, tau, k):
    out = []
    for sr, tr in zip(s, t):
        ps, pt = softmax(sr, tau), softmax(tr, tau)
        w = 1 / (1 + math.exp(-k * (entropy(ps) - entropy(pt))))
        out.append(tau * tau * ((1 - w) * kl(pt, ps) + w * kl(ps, pt)))
    return float(np.mean(out))


@pytest.mark.parametrize('tau,k', [(1.0, 1.0), (4.0, 5.0)])
def test_matches_reference(tau, k):
    s, t, _ = random_logits(6, 5, seed=15)
    out = BalancedKDLoss(tau=tau, sharpness=k, loss_weight=0.5)(torch.from_numpy(s), torch.from_numpy(t))
    assert out.item() == pytest.approx(0.5 * ref_bdkd(s, t, tau, k), rel=1e-12)


def test_weight_follows_entropy_gap():
    t = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    s = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]], dtype=torch.float64)
    w = BalancedKDLoss(sharpness=100.0).balance(s, t)
    assert w[0] > 0.99 and w[1] < 0.01        # uncertain student -> reverse KL; over-confident -> forward KL
    # a hard switch to forward KL is KD
    kd = KDLoss(tau=2.0, reduction='none')(s, t)
    assert BalancedKDLoss(tau=2.0, sharpness=1e4, reduction='none')(s, t)[1].item() == pytest.approx(kd[1].item())


def test_teacher_gradient_only_when_trainable():
    s, t, _ = random_logits(3, 4, seed=16)
    zt = torch.tensor(t, requires_grad=True)
    BalancedKDLoss()(torch.tensor(s, requires_grad=True), zt).backward()
    assert zt.grad is None
    zt = torch.tensor(t, requires_grad=True)
    BalancedKDLoss(teacher_trainable=True)(torch.tensor(s), zt).backward()
    assert zt.grad is not None and zt.grad.abs().sum() > 0


@pytest.mark.parametrize('case', DEGENERATE_CASES)
def test_degenerate_inputs_finite(case):
    zs, zt = degenerate_logits(case)
    zt.requires_grad_(True)
    loss = BalancedKDLoss(tau=4.0, teacher_trainable=True)(zs, zt)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zs.grad).all() and torch.isfinite(zt.grad).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs(dtype):
    s, t, _ = random_logits(4, 8, seed=17)
    zs = torch.tensor(s, dtype=dtype, requires_grad=True)
    zt = torch.tensor(t, dtype=dtype)
    out = BalancedKDLoss(tau=2.0)(zs, zt)
    assert out.dtype == torch.float32
    out.backward()
    assert torch.isfinite(zs.grad.float()).all()
    assert out.item() == pytest.approx(ref_bdkd(zs.detach().double().numpy(), zt.double().numpy(), 2.0, 1.0),
                                       rel=1e-5)


def test_bad_input_refused():
    with pytest.raises(ValueError, match='tau'):
        BalancedKDLoss(tau=0)
    with pytest.raises(ValueError, match='sharpness'):
        BalancedKDLoss(sharpness=-1)
    with pytest.raises(ValueError, match='preds_S has 3 classes but preds_T has 2'):
        BalancedKDLoss()(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match='preds_S.*NaN'):
        BalancedKDLoss()(torch.full((2, 3), float('nan')), torch.zeros(2, 3))


def test_registered():
    assert isinstance(MODELS.build(dict(type='BalancedKDLoss', tau=4)), BalancedKDLoss)
