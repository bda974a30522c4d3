"""KDLoss against a float64 reference written here, and its input checks."""
import numpy as np
import pytest
import torch

from visiondiv.models.losses import KDLoss
from visiondiv.registry import MODELS
from .kd_reference import DEGENERATE_CASES, degenerate_logits, kd, random_logits


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_kd_matches_reference(tau):
    s, t, _ = random_logits(5, 7)
    out = KDLoss(tau=tau, loss_weight=0.9)(torch.from_numpy(s), torch.from_numpy(t))
    assert out.item() == pytest.approx(0.9 * kd(s, t, tau), rel=1e-12)
    per = KDLoss(tau=tau, reduction='none')(torch.from_numpy(s), torch.from_numpy(t))
    assert per.shape == (5, ) and per.sum().item() == pytest.approx(5 * kd(s, t, tau), rel=1e-12)


def test_gradient_is_tau_times_softmax_gap_and_teacher_detached():
    s, t, _ = random_logits(4, 6, seed=1)
    zs = torch.tensor(s, requires_grad=True)
    zt = torch.tensor(t, requires_grad=True)
    KDLoss(tau=2.0)(zs, zt).backward()
    # d/dz_s tau^2 KL(p_t||p_s) / N = tau (p_s - p_t) / N
    ref = 2.0 * ((zs / 2).softmax(1) - (zt / 2).softmax(1)).detach() / 4
    torch.testing.assert_close(zs.grad, ref, rtol=1e-12, atol=1e-14)
    assert zt.grad is None
    zt2 = torch.tensor(t, requires_grad=True)
    KDLoss(teacher_detach=False)(torch.tensor(s), zt2).backward()
    assert zt2.grad is not None and zt2.grad.abs().sum() > 0


@pytest.mark.parametrize('case', DEGENERATE_CASES)
def test_degenerate_inputs_finite(case):
    zs, zt = degenerate_logits(case)
    loss = KDLoss(tau=4.0)(zs, zt)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zs.grad).all()
    if case == 'equal':
        assert loss.item() == 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs_computed_in_fp32(dtype):
    s, t, _ = random_logits(4, 10, seed=2)
    zs = torch.tensor(s, dtype=dtype, requires_grad=True)
    out = KDLoss(tau=4.0)(zs, torch.tensor(t, dtype=dtype))
    assert out.dtype == torch.float32
    out.backward()
    assert zs.grad.dtype == dtype and torch.isfinite(zs.grad.float()).all()
    ref = kd(zs.detach().double().numpy(), torch.tensor(t, dtype=dtype).double().numpy(), 4.0)
    assert out.item() == pytest.approx(ref, rel=1e-5)


def test_bad_input_refused():
    with pytest.raises(ValueError, match='tau'):
        KDLoss(tau=0)
    with pytest.raises(ValueError, match='tau'):
        KDLoss(tau=-1.0)
    with pytest.raises(ValueError, match='reduction'):
        KDLoss(reduction='batchmean')
    loss = KDLoss()
    with pytest.raises(ValueError, match='preds_S has 5 classes but preds_T has 6'):
        loss(torch.zeros(2, 5), torch.zeros(2, 6))
    bad = torch.zeros(2, 5)
    bad[0, 1] = float('nan')
    with pytest.raises(ValueError, match='preds_T.*1 NaN'):
        loss(torch.zeros(2, 5), bad)
    bad[0, 1] = float('inf')
    with pytest.raises(ValueError, match='preds_S.*1 inf'):
        loss(bad, torch.zeros(2, 5))


def test_registered():
    loss = MODELS.build(dict(type='KDLoss', tau=4.0, loss_weight=0.9))
    assert isinstance(loss, KDLoss) and loss.loss_name == 'loss_kd' and np.isclose(loss.tau, 4.0)
