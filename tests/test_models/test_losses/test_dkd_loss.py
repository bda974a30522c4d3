"""DKDLoss against a float64 reference written here; KD = TCKD + (1 - p_y^t) NCKD; input checks."""
import numpy as np
import pytest
import torch

from visiondiv.models.losses import DKDLoss, KDLoss
from visiondiv.models.losses.dkd_loss import dkd_terms
from visiondiv.registry import MODELS
from .kd_reference import dkd_terms as ref_terms
from .kd_reference import kd, random_logits, softmax


@pytest.mark.parametrize('tau,alpha,beta', [(1.0, 1.0, 1.0), (4.0, 1.0, 8.0), (2.0, 0.5, 2.0)])
def test_dkd_matches_reference(tau, alpha, beta):
    s, t, y = random_logits(6, 5, seed=3)
    ref = np.mean([alpha * a + beta * b for a, b in (ref_terms(s[i], t[i], y[i], tau) for i in range(6))])
    loss = DKDLoss(tau=tau, alpha=alpha, beta=beta, loss_weight=2.0)
    out = loss(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y))
    assert out.item() == pytest.approx(2.0 * ref, rel=1e-12)
    # mmrazor's effective reduction: the batch sum
    out_sum = DKDLoss(tau=tau, alpha=alpha, beta=beta, reduction='sum')(torch.from_numpy(s), torch.from_numpy(t),
                                                                         torch.from_numpy(y))
    assert out_sum.item() == pytest.approx(6 * ref, rel=1e-12)


def test_kd_is_tckd_plus_one_minus_target_prob_times_nckd_exactly():
    s, t, y = random_logits(8, 6, seed=4)
    for tau in (1.0, 3.0):
        tckd, nckd = dkd_terms(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y), tau)
        kd_per = KDLoss(tau=tau, reduction='none')(torch.from_numpy(s), torch.from_numpy(t))
        pt_y = torch.tensor([softmax(t[i], tau)[y[i]] for i in range(8)], dtype=torch.float64)
        torch.testing.assert_close(tckd + (1 - pt_y) * nckd, kd_per, rtol=1e-12, atol=1e-14)
        # the batch mean too, and DKD(alpha = beta = 1) = KD + mean p_y^t NCKD, not KD
        assert (tckd + (1 - pt_y) * nckd).mean().item() == pytest.approx(kd(s, t, tau), rel=1e-12)
        dkd11 = DKDLoss(tau=tau, alpha=1, beta=1)(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y))
        assert dkd11.item() == pytest.approx(kd(s, t, tau) + (pt_y * nckd).mean().item(), rel=1e-12)
        assert dkd11.item() > kd(s, t, tau)


def test_warmup_attribute_and_argument():
    s, t, y = (torch.from_numpy(a) for a in random_logits(4, 5, seed=5))
    loss = DKDLoss(warmup_epochs=20)
    full = loss(s, t, y)
    assert loss.warmup_factor == 1.0
    assert loss.set_epoch(5) == 0.25
    assert loss(s, t, y).item() == pytest.approx(0.25 * full.item(), rel=1e-12)
    assert loss(s, t, y, warmup_factor=0.5).item() == pytest.approx(0.5 * full.item(), rel=1e-12)
    assert loss.set_epoch(40) == 1.0
    assert DKDLoss().set_epoch(1) == 1.0
    with pytest.raises(ValueError, match='warmup_factor'):
        loss(s, t, y, warmup_factor=2.0)
    with pytest.raises(ValueError, match='warmup_epochs'):
        DKDLoss(warmup_epochs=-1)


@pytest.mark.parametrize('case', ['one_hot', 'one_hot_wrong', 'equal', 'huge'])
def test_degenerate_inputs_finite(case):
    y = torch.tensor([0, 0, 2])
    zs = torch.randn(3, 5)
    if case.startswith('one_hot'):
        zt = torch.full((3, 5), -1e4)
        zt[:, 1 if case == 'one_hot_wrong' else 0] = 1e4
    elif case == 'equal':
        zs, zt = torch.zeros(3, 5), torch.zeros(3, 5)
    else:
        zs, zt = torch.tensor([[1e4, -1e4, 0, 0, 0]] * 3), torch.tensor([[-1e4, 1e4, 0, 0, 0]] * 3)
    zs.requires_grad_(True)
    loss = DKDLoss(tau=4.0)(zs, zt, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zs.grad).all()
    if case == 'equal':
        assert loss.item() == 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs(dtype):
    s, t, y = random_logits(4, 10, seed=6)
    zs = torch.tensor(s, dtype=dtype, requires_grad=True)
    zt = torch.tensor(t, dtype=dtype)
    out = DKDLoss()(zs, zt, torch.from_numpy(y))
    assert out.dtype == torch.float32
    out.backward()
    assert torch.isfinite(zs.grad.float()).all()
    sd, td = zs.detach().double().numpy(), zt.double().numpy()
    ref = np.mean([a + 8 * b for a, b in (ref_terms(sd[i], td[i], y[i], 4.0) for i in range(4))])
    assert out.item() == pytest.approx(ref, rel=1e-5)


def test_teacher_detached_by_default():
    s, t, y = random_logits(3, 4, seed=7)
    zt = torch.tensor(t, requires_grad=True)
    DKDLoss()(torch.tensor(s, requires_grad=True), zt, torch.from_numpy(y)).backward()
    assert zt.grad is None


def test_bad_input_refused():
    with pytest.raises(ValueError, match='tau'):
        DKDLoss(tau=0)
    with pytest.raises(ValueError, match='beta'):
        DKDLoss(beta=-1)
    loss = DKDLoss()
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match='preds_S has 5 classes but preds_T has 4'):
        loss(torch.zeros(2, 5), torch.zeros(2, 4), y)
    with pytest.raises(ValueError, match='preds_T.*NaN'):
        loss(torch.zeros(2, 5), torch.tensor([[float('nan')] * 5] * 2), y)
    with pytest.raises(ValueError, match=r'gt_labels must lie in \[0, 5\)'):
        loss(torch.zeros(2, 5), torch.zeros(2, 5), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match='gt_labels has 1 labels for 2 samples'):
        loss(torch.zeros(2, 5), torch.zeros(2, 5), torch.tensor([0]))


def test_registered():
    loss = MODELS.build(dict(type='DKDLoss', tau=1, beta=0.5))
    assert isinstance(loss, DKDLoss) and loss.loss_name == 'loss_dkd'
