"""Sinkhorn against closed forms, exact OT (scipy linprog) and its own marginals."""
import numpy as np
import pytest
import torch
from scipy.optimize import linprog

from visiondiv.divergences import sinkhorn


def exact_ot(a, b, cost):
    """min <P, C> s.t. P 1 = a, P^T 1 = b, P >= 0, as a linear programme."""
    m, n = cost.shape
    rows = np.zeros((m, m * n))
    cols = np.zeros((n, m * n))
    for i in range(m):
        rows[i, i * n:(i + 1) * n] = 1
    for j in range(n):
        cols[j, j::n] = 1
    res = linprog(cost.reshape(-1), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method='highs')
    assert res.success
    return res.fun


@pytest.mark.parametrize('p,q,c,eps,n_iters', [(0.8, 0.3, 1.0, 0.01, 300), (0.1, 0.6, 0.5, 0.005, 300),
                                               (0.5, 0.5, 2.0, 0.02, 10), (0.8, 0.3, 1.0, 1e-3, 2000)])
def test_two_points_cost_is_mass_moved_times_distance(p, q, c, eps, n_iters):
    # Sinkhorn needs about c / eps iterations to move the mass here (with 10, at eps = c / 100, it moves none)
    a = torch.tensor([[p, 1 - p]], dtype=torch.float64)
    b = torch.tensor([[q, 1 - q]], dtype=torch.float64)
    cost = torch.tensor([[0.0, c], [c, 0.0]], dtype=torch.float64)
    total, plan = sinkhorn(cost, a, b, eps=eps, n_iters=n_iters)
    assert total.item() == pytest.approx(abs(p - q) * c, abs=1e-6)
    torch.testing.assert_close(plan.sum(-1), a, atol=1e-8, rtol=0)
    torch.testing.assert_close(plan.sum(-2), b, atol=1e-12, rtol=0)


def test_marginals_and_methods_agree():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(4, 6, generator=g, dtype=torch.float64).softmax(-1)
    b = torch.rand(4, 5, generator=g, dtype=torch.float64).softmax(-1)
    cost = torch.rand(6, 5, generator=g, dtype=torch.float64)
    t_log, p_log = sinkhorn(cost, a, b, eps=0.05, n_iters=200)
    t_exp, p_exp = sinkhorn(cost, a, b, eps=0.05, n_iters=200, method='exp')
    torch.testing.assert_close(p_log, p_exp, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(t_log, t_exp, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(p_log.sum(-1), a, atol=1e-9, rtol=0)
    torch.testing.assert_close(p_log.sum(-2), b, atol=1e-12, rtol=0)
    # after few iterations the columns are exact, the rows not yet; both methods do the same iterations
    t10, p10 = sinkhorn(cost, a, b, eps=0.05, n_iters=3)
    t10e, _ = sinkhorn(cost, a, b, eps=0.05, n_iters=3, method='exp', return_plan=False)
    torch.testing.assert_close(t10, t10e, rtol=1e-10, atol=0)
    torch.testing.assert_close(p10.sum(-2), b, atol=1e-12, rtol=0)
    # a shared cost equals the same cost given per distribution
    t_b, _ = sinkhorn(cost.expand(4, 6, 5), a, b, eps=0.05, n_iters=200)
    torch.testing.assert_close(t_b, t_log, rtol=1e-12, atol=0)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_small_eps_approaches_exact_ot(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(4))
    cost = rng.random((5, 4))
    exact = exact_ot(a, b, cost)
    total, _ = sinkhorn(torch.from_numpy(cost), torch.from_numpy(a)[None], torch.from_numpy(b)[None], eps=2e-3,
                        n_iters=3000)
    assert total.item() == pytest.approx(exact, abs=5e-3)
    assert total.item() >= exact - 1e-6     # the exact OT is the minimum over all couplings


def test_zero_masses_are_dropped_exactly():
    g = torch.Generator().manual_seed(3)
    a = torch.rand(5, generator=g, dtype=torch.float64).softmax(-1)
    b = torch.rand(5, generator=g, dtype=torch.float64).softmax(-1)
    cost = torch.rand(5, 5, generator=g, dtype=torch.float64)
    keep = [0, 2, 3, 4]
    a0, b0 = a.clone(), b.clone()
    a0[1], b0[1] = 0, 0
    a0, b0 = a0 / a0.sum(), b0 / b0.sum()
    full, plan = sinkhorn(cost, a0[None], b0[None], n_iters=10)
    small, _ = sinkhorn(cost[keep][:, keep], a0[keep][None], b0[keep][None], n_iters=10)
    torch.testing.assert_close(full, small, rtol=1e-12, atol=0)
    assert plan[0, 1].abs().sum() == 0 and plan[0, :, 1].abs().sum() == 0


def test_tiny_eps_finite_with_gradients():
    g = torch.Generator().manual_seed(4)
    za = torch.randn(3, 8, generator=g, requires_grad=True)
    zb = torch.randn(3, 8, generator=g) * 10
    cost = torch.rand(8, 8, generator=g)
    total, plan = sinkhorn(cost, log_a=za.log_softmax(-1), log_b=zb.log_softmax(-1), eps=1e-3, n_iters=10)
    total.sum().backward()
    assert torch.isfinite(total).all() and torch.isfinite(plan).all() and torch.isfinite(za.grad).all()
    # the scaling domain underflows there (K = exp(-C / 1e-3)); 'auto' switches to the log domain
    t_auto, _ = sinkhorn(cost, log_a=za.log_softmax(-1), log_b=zb.log_softmax(-1), eps=1e-3, method='auto')
    torch.testing.assert_close(t_auto, total)


def test_bad_arguments_refused():
    a = torch.full((1, 3), 1 / 3)
    with pytest.raises(ValueError, match='eps'):
        sinkhorn(torch.zeros(3, 3), a, a, eps=0)
    with pytest.raises(ValueError, match='n_iters'):
        sinkhorn(torch.zeros(3, 3), a, a, n_iters=0)
    with pytest.raises(ValueError, match='cost has non-finite'):
        sinkhorn(torch.full((3, 3), float('nan')), a, a)
    with pytest.raises(ValueError, match='cost is 3 x 3 but a has 2'):
        sinkhorn(torch.zeros(3, 3), torch.full((1, 2), 0.5), a)
    with pytest.raises(ValueError, match='method'):
        sinkhorn(torch.zeros(3, 3), a, a, method='greedy')
