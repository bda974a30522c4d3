"""DecoupledKLLoss / GeneralizedKLLoss against a float64 loop reference; the O(NC) wMSE; KL's gradient."""
import numpy as np
import pytest
import torch

from visiondiv.models.losses import (DecoupledKLLoss, GeneralizedKLLoss, KDLoss, pairwise_wmse,
                                     pairwise_wmse_dense)
from visiondiv.registry import MODELS
from .kd_reference import DEGENERATE_CASES, degenerate_logits, random_logits, softmax


def ref_dkl(s, t, y, alpha, beta, gamma, tau, tau_w, weights, normalize, prior=None):
    """alpha * 1/4 sum_n sum_jk P (dt - ds)^2 / Z + beta * soft CE, with explicit loops."""
    n, c = s.shape
    num, den, ce = 0.0, 0.0, 0.0
    for i in range(n):
        q = softmax(t[i], tau_w) if weights == 'sample' else (prior[y[i]] if prior is not None
                                                              else np.full(c, 1.0 / c))
        q = q ** gamma
        for j in range(c):
            for k in range(c):
                p = q[j] * q[k]
                num += p * ((t[i, j] - t[i, k]) - (s[i, j] - s[i, k])) ** 2
                den += p
        pt, ps = softmax(t[i], tau), softmax(s[i], tau)
        ce -= sum(pt[j] * np.log(ps[j]) for j in range(c))
    z = den if normalize == 'weight' else n
    return alpha * 0.25 * num / z + beta * ce / n


@pytest.mark.parametrize('weights,normalize,gamma,tau', [('sample', 'weight', 1.0, 1.0), ('sample', 'batch', 0.5, 4.0),
                                                         ('class', 'weight', 0.05, 4.0), ('class', 'batch', 1.0, 1.0)])
def test_matches_reference(weights, normalize, gamma, tau):
    s, t, y = random_logits(5, 4, seed=8)
    rng = np.random.default_rng(0)
    prior = rng.random((4, 4))
    prior /= prior.sum(1, keepdims=True)
    loss = DecoupledKLLoss(alpha=16.0, beta=1.0, gamma=gamma, tau=tau, tau_weight=2.0, weights=weights,
                           normalize=normalize, class_prior=torch.from_numpy(prior), loss_weight=0.5)
    out = loss(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y))
    ref = ref_dkl(s, t, y, 16.0, 1.0, gamma, tau, 2.0, weights, normalize, prior)
    assert out.item() == pytest.approx(0.5 * ref, rel=1e-10)


def test_uniform_prior_when_absent_and_accumulation():
    s, t, y = random_logits(6, 3, seed=9)
    loss = GeneralizedKLLoss(alpha=2.0, tau=4.0, tau_weight=4.0)
    out = loss(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y))
    ref = ref_dkl(s, t, y, 2.0, 1.0, 1.0, 4.0, 4.0, 'class', 'weight', None)
    assert out.item() == pytest.approx(ref, rel=1e-10)
    loss.accumulate_class_prior(torch.from_numpy(t), torch.from_numpy(y))
    prior = loss.step_class_prior()
    for c in range(3):
        rows = [softmax(t[i], 4.0) for i in range(6) if y[i] == c]
        expected = np.mean(rows, 0) if rows else np.full(3, 1 / 3)
        np.testing.assert_allclose(prior[c].numpy(), expected, rtol=1e-5)
    assert loss.step_class_prior() is None


def test_fast_wmse_equals_dense_in_float64():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(7, 13, generator=g, dtype=torch.float64) * 3, torch.randn(7, 13, generator=g,
                                                                                   dtype=torch.float64) * 3
    w = torch.rand(7, 13, generator=g, dtype=torch.float64)
    w[0] = 0
    w[1, 3:] = 0
    s1, s2 = s.clone().requires_grad_(True), s.clone().requires_grad_(True)
    fast, dense = pairwise_wmse(s1, t, w), pairwise_wmse_dense(s2, t, w)
    torch.testing.assert_close(fast, dense, rtol=1e-12, atol=1e-12)
    fast.sum().backward()
    dense.sum().backward()
    torch.testing.assert_close(s1.grad, s2.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('weights', ['sample', 'class'])
def test_student_gradient_is_kl_gradient_when_gaps_detached(weights):
    s, t, y = random_logits(5, 6, seed=10)
    for tau in (1.0, 4.0):
        zs1, zs2 = torch.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)
        DecoupledKLLoss(alpha=3.0, beta=1.0, tau=tau, weights=weights, detach_student_gaps=True)(
            zs1, torch.tensor(t), torch.from_numpy(y)).backward()
        (KDLoss(tau=tau)(zs2, torch.tensor(t)) / tau ** 2).backward()    # KL_tau, without tau^2
        torch.testing.assert_close(zs1.grad, zs2.grad, rtol=1e-12, atol=1e-15)
        # IKL: the student's gaps get the wMSE gradient too
        zs3 = torch.tensor(s, requires_grad=True)
        DecoupledKLLoss(alpha=3.0, tau=tau, weights=weights)(zs3, torch.tensor(t), torch.from_numpy(y)).backward()
        assert (zs3.grad - zs2.grad).abs().max() > 1e-3


def test_teacher_gradient_is_kl_gradient_with_per_sample_weights():
    """The paper's theorem: with w = S(p_t), gamma 1, alpha = beta = 1, the wMSE carries KL's teacher gradient."""
    s, t, _ = random_logits(5, 6, seed=11)
    for tau in (1.0, 3.0):
        for normalize in ('weight', 'batch'):   # sum_jk P = 1 per sample, so both divide by N
            zt1, zt2 = torch.tensor(t, requires_grad=True), torch.tensor(t, requires_grad=True)
            DecoupledKLLoss(tau=tau, normalize=normalize, teacher_detach=False, detach_student_gaps=True)(
                torch.tensor(s), zt1).backward()
            (KDLoss(tau=tau, teacher_detach=False)(torch.tensor(s), zt2) / tau ** 2).backward()
            # the wMSE is on raw logits: its teacher gradient is tau^2 that of KL_tau (equal at tau = 1)
            torch.testing.assert_close(zt1.grad, tau ** 2 * zt2.grad, rtol=1e-10, atol=1e-14)
    # gamma != 1 breaks it
    zt1, zt2 = torch.tensor(t, requires_grad=True), torch.tensor(t, requires_grad=True)
    DecoupledKLLoss(gamma=0.5, teacher_detach=False)(torch.tensor(s), zt1).backward()
    KDLoss(teacher_detach=False)(torch.tensor(s), zt2).backward()
    assert (zt1.grad - zt2.grad).abs().max() > 1e-3


@pytest.mark.parametrize('case', DEGENERATE_CASES)
@pytest.mark.parametrize('weights', ['sample', 'class'])
def test_degenerate_inputs_finite(case, weights):
    y = torch.tensor([0, 1, 2])
    zs, zt = degenerate_logits(case)
    loss = DecoupledKLLoss(gamma=0.0 if case == 'one_hot' else 1.0, tau=4.0, weights=weights)(zs, zt, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zs.grad).all()
    if case == 'equal':
        assert loss.item() == pytest.approx(np.log(5), rel=1e-6)     # wMSE 0, CE = H(uniform)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs(dtype):
    s, t, y = random_logits(4, 6, seed=12)
    zs = torch.tensor(s, dtype=dtype, requires_grad=True)
    zt = torch.tensor(t, dtype=dtype)
    out = GeneralizedKLLoss(alpha=4.0, gamma=0.5)(zs, zt, torch.from_numpy(y))
    assert out.dtype == torch.float32
    out.backward()
    assert torch.isfinite(zs.grad.float()).all()
    ref = ref_dkl(zs.detach().double().numpy(), zt.double().numpy(), y, 4.0, 1.0, 0.5, 1.0, 1.0, 'class', 'weight')
    assert out.item() == pytest.approx(ref, rel=1e-5)


def test_bad_input_refused():
    with pytest.raises(ValueError, match='gamma'):
        DecoupledKLLoss(gamma=-0.1)
    with pytest.raises(ValueError, match='tau'):
        DecoupledKLLoss(tau=0)
    with pytest.raises(ValueError, match='tau_weight'):
        DecoupledKLLoss(tau_weight=-1)
    with pytest.raises(ValueError, match='weights'):
        DecoupledKLLoss(weights='global')
    bad = torch.full((3, 3), 1 / 3)
    bad[1, 1] = float('nan')
    with pytest.raises(ValueError, match='class_prior.*1 NaN'):
        GeneralizedKLLoss(class_prior=bad)
    loss = GeneralizedKLLoss(num_classes=3)
    with pytest.raises(ValueError, match='class_prior has 3 classes but the logits have 4'):
        loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='class_prior.*inf'):
        loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1]), class_prior=torch.full((3, 3), float('inf')))
    with pytest.raises(ValueError, match='preds_S has 3 classes but preds_T has 4'):
        loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='preds_S.*NaN'):
        loss(torch.full((2, 3), float('nan')), torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='gt_labels is required'):
        loss(torch.zeros(2, 3), torch.zeros(2, 3))


def test_registered():
    assert isinstance(MODELS.build(dict(type='DecoupledKLLoss')), DecoupledKLLoss)
    gkl = MODELS.build(dict(type='GeneralizedKLLoss', alpha=0.5, gamma=0.6))
    assert gkl.weights == 'class' and gkl.loss_name == 'loss_gkl'
