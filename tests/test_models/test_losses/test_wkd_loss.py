"""WassersteinKDLoss against a numpy reference that drops the target class (WKD's layout)."""
import numpy as np
import pytest
import torch

from visiondiv.models.losses import WassersteinKDLoss, classifier_cost
from visiondiv.registry import MODELS
from .kd_reference import DEGENERATE_CASES, degenerate_logits, random_logits, softmax


def ref_sinkhorn_cost(a, b, cost, eps, n_iters):
    k = np.exp(-cost / eps)
    v = np.ones_like(b)
    for _ in range(n_iters):
        u = a / (k @ v)
        v = b / (k.T @ u)
    plan = u[:, None] * k * v[None, :]
    return float((plan * cost).sum())


def ref_wkd(s, t, y, cost, tau, eps, n_iters, wd_weight, target_weight):
    lt, wd = 0.0, 0.0
    for i in range(len(y)):
        lt -= softmax(t[i])[y[i]] * np.log(softmax(s[i])[y[i]])
        keep = [c for c in range(s.shape[1]) if c != y[i]]
        a, b = softmax(t[i][keep], tau), softmax(s[i][keep], tau)
        wd += ref_sinkhorn_cost(a, b, cost[np.ix_(keep, keep)], eps, n_iters)
    return (target_weight * lt + wd_weight * wd) / len(y)


def make_cost(c, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(c, 8))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return np.maximum(1 - np.exp(-(1 - w @ w.T)), 0) + 1e-8, w


@pytest.mark.parametrize('method', ['log', 'exp', 'auto'])
@pytest.mark.parametrize('tau,n_iters', [(2.0, 10), (4.0, 50)])
def test_matches_reference(method, tau, n_iters):
    s, t, y = random_logits(5, 6, seed=13)
    cost, w = make_cost(6)
    cost = np.maximum(cost, 1e-8)
    loss = WassersteinKDLoss(tau=tau, n_iters=n_iters, method=method, classifier_weight=torch.from_numpy(w),
                             wd_weight=30.0, target_weight=0.5, loss_weight=2.0)
    np.testing.assert_allclose(loss.cost_matrix.numpy(), cost, atol=1e-6)
    out = loss(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y), cost_matrix=torch.from_numpy(cost))
    ref = ref_wkd(s, t, y, cost, tau, 0.05, n_iters, 30.0, 0.5)
    assert out.item() == pytest.approx(2.0 * ref, rel=1e-9)


def test_classifier_cost_is_cosine_distance():
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    cost = classifier_cost(w, kappa=2.0)
    ref = 1 - np.exp(-2.0 * np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])) + 1e-8
    np.testing.assert_allclose(cost.numpy(), ref, atol=1e-6)


@pytest.mark.parametrize('case', DEGENERATE_CASES)
@pytest.mark.parametrize('eps', [0.05, 1e-3])
def test_degenerate_inputs_finite(case, eps):
    y = torch.tensor([0, 1, 2])
    zs, zt = degenerate_logits(case, hot=3)
    loss = WassersteinKDLoss(eps=eps, cost_matrix=torch.from_numpy(make_cost(5)[0]).float())(zs, zt, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(zs.grad).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs(dtype):
    s, t, y = random_logits(4, 6, seed=14)
    zs = torch.tensor(s, dtype=dtype, requires_grad=True)
    zt = torch.tensor(t, dtype=dtype)
    cost = make_cost(6)[0]
    out = WassersteinKDLoss(cost_matrix=torch.from_numpy(cost))(zs, zt, torch.from_numpy(y))
    assert out.dtype == torch.float32
    out.backward()
    assert torch.isfinite(zs.grad.float()).all()
    ref = ref_wkd(zs.detach().double().numpy(), zt.double().numpy(), y, cost, 2.0, 0.05, 10, 1.0, 1.0)
    assert out.item() == pytest.approx(ref, rel=1e-4)


def test_bad_input_refused():
    with pytest.raises(ValueError, match='tau'):
        WassersteinKDLoss(tau=0)
    with pytest.raises(ValueError, match='eps'):
        WassersteinKDLoss(eps=-1)
    bad = torch.ones(3, 3)
    bad[0, 0] = float('nan')
    with pytest.raises(ValueError, match='cost_matrix.*NaN'):
        WassersteinKDLoss(cost_matrix=bad)
    loss = WassersteinKDLoss(cost_matrix=torch.ones(3, 3))
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match='cost_matrix has 3 classes but the logits have 4'):
        loss(torch.zeros(2, 4), torch.zeros(2, 4), y)
    with pytest.raises(ValueError, match='preds_S has 3 classes but preds_T has 4'):
        loss(torch.zeros(2, 3), torch.zeros(2, 4), y)
    with pytest.raises(ValueError, match='preds_T.*inf'):
        loss(torch.zeros(2, 3), torch.full((2, 3), float('inf')), y)
    with pytest.raises(ValueError, match='no cost_matrix'):
        WassersteinKDLoss()(torch.zeros(2, 3), torch.zeros(2, 3), y)


def test_registered():
    assert isinstance(MODELS.build(dict(type='WassersteinKDLoss', wd_weight=30)), WassersteinKDLoss)


def official_weight(w, epoch, start=150, epochs=240):
    """WKD.py's forward_train: ``0.5 * w * (1 + cos((epoch - start) / (EPOCHS - start) * pi))`` after ``start``."""
    if epoch > start:
        return 0.5 * w * (1 + np.cos((epoch - start) / (epochs - start) * np.pi))
    return w


@pytest.mark.parametrize('epoch, closed', [(1, 1.0), (150, 1.0), (151, (1 + np.cos(np.pi / 90)) / 2),
                                           (165, (1 + np.cos(np.pi / 6)) / 2), (180, 0.75), (195, 0.5), (210, 0.25),
                                           (239, (1 + np.cos(89 * np.pi / 90)) / 2), (240, 0.0), (300, 0.0)])
def test_wd_decay_factor_closed_form(epoch, closed):
    loss = WassersteinKDLoss(wd_weight=600.0, wd_decay=dict(start_epoch=150, end_epoch=240))
    assert loss.wd_factor == 1.0  # before any set_epoch
    assert loss.decay_factor(epoch) == pytest.approx(closed, abs=1e-12)
    assert loss.set_epoch(epoch) == loss.wd_factor == pytest.approx(closed, abs=1e-12)
    if epoch <= 240:  # WKD never runs past its last epoch
        assert 600.0 * loss.wd_factor == pytest.approx(official_weight(600.0, epoch), abs=1e-9)
    assert WassersteinKDLoss().set_epoch(epoch) == 1.0  # no wd_decay: constant


@pytest.mark.parametrize('epoch', [100, 195, 230])
def test_wd_decay_scales_only_the_distance(epoch):
    s, t, y = random_logits(5, 6, seed=15)
    cost = make_cost(6)[0]
    loss = WassersteinKDLoss(tau=4.0, cost_matrix=torch.from_numpy(cost), wd_weight=30.0, target_weight=0.5,
                             wd_decay=dict(start_epoch=150, end_epoch=240))
    loss.set_epoch(epoch)
    out = loss(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(y))
    ref = ref_wkd(s, t, y, cost, 4.0, 0.05, 10, official_weight(30.0, epoch), 0.5)
    assert out.item() == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize('wd_decay', [dict(start_epoch=150), dict(start_epoch=150, end_epoch=240, x=1),
                                      dict(start_epoch=240, end_epoch=150), dict(start_epoch=150, end_epoch=150),
                                      dict(start_epoch=-1, end_epoch=10), dict(start_epoch=1.5, end_epoch=10),
                                      (150, 240)])
def test_bad_wd_decay_refused(wd_decay):
    with pytest.raises(ValueError, match='wd_decay'):
        WassersteinKDLoss(wd_decay=wd_decay)


@pytest.mark.parametrize('epoch', [1, 2, 25, 50, 75, 99, 100])
def test_wd_decay_from_epoch_zero_is_wkds_imagenet_weight(epoch):
    """WKD's ImageNet yaml leaves COSINE_DECAY_EPOCH at 0: the weight decays over the whole 100 epochs, from epoch 1."""
    loss = WassersteinKDLoss(wd_weight=30.0, wd_decay=dict(start_epoch=0, end_epoch=100))
    assert 30.0 * loss.set_epoch(epoch) == pytest.approx(official_weight(30.0, epoch, start=0, epochs=100), abs=1e-12)
    assert loss.wd_factor == pytest.approx((1 + np.cos(np.pi * epoch / 100)) / 2, abs=1e-12)
