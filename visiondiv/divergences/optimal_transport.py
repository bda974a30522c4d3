"""Entropic optimal transport between discrete distributions (Sinkhorn), batched and differentiable.

For marginals a (m,), b (n,) and a cost C (m, n), Sinkhorn finds the plan P = diag(u) K diag(v),
K = exp(-C / eps), whose marginals are a and b, by alternating u = a / (K v) and v = b / (K^T u); the
transport cost is <P, C>. The log domain (potentials f = eps log u, g = eps log v, ``logsumexp`` updates)
stays finite for any eps > 0, where K underflows (eps = 1e-3 with costs of order 1); the scaling domain needs
only O(N (m + n)) memory for a shared cost but is only safe while max(C) / eps is moderate.
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor

#: ways of running the iterations (see :func:`sinkhorn`)
SINKHORN_METHODS = ('log', 'exp', 'auto')
#: ``method='auto'`` uses the scaling domain while max(cost) / eps is at most this (exp(-50) ~ 2e-22 >> fp32 tiny)
EXP_DOMAIN_MAX_RATIO = 50.0


def _marginal(p: Optional[Tensor], log_p: Optional[Tensor], name: str) -> Tensor:
    if log_p is not None:
        return log_p
    if p is None:
        raise ValueError(f'sinkhorn: give {name} or log_{name}')
    if (p < 0).any():
        raise ValueError(f'sinkhorn: {name} has negative entries')
    return torch.where(p > 0, p.log(), torch.full_like(p, -math.inf))


def sinkhorn(cost: Tensor, a: Optional[Tensor] = None, b: Optional[Tensor] = None, eps: float = 0.05,
             n_iters: int = 10, *, log_a: Optional[Tensor] = None, log_b: Optional[Tensor] = None,
             method: str = 'log', return_plan: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
    """Entropic OT: ``n_iters`` Sinkhorn iterations (f then g; unrolled, so gradients flow through them).

    The iterations start from g = 0 (v = 1) on the support of b and update f (rows) first, g (columns) last:
    after them the plan's column sums are b exactly, its row sums approach a as the iterations converge (about
    max(C) / eps iterations are needed: WKD's 10 at eps = 0.05 are far from it). Zero masses are allowed
    (log-mass -inf): their rows/columns of the plan are 0, and the result is the one without those points.

    Args:
        cost (Tensor): (m, n) shared by the batch, or (..., m, n) one per distribution.
        a (Tensor, optional): (..., m) source masses (a distribution each). Defaults to None.
        b (Tensor, optional): (..., n) target masses. Defaults to None.
        eps (float): the entropic regularisation (WKD's lambda, 0.05) > 0. Defaults to 0.05.
        n_iters (int): number of iterations (WKD: 10) >= 1. Defaults to 10.
        log_a (Tensor, optional): keyword-only; log of ``a`` (e.g. ``log_softmax``), used instead of ``a``,
            so that underflowed masses keep a finite log. Defaults to None.
        log_b (Tensor, optional): keyword-only; log of ``b``. Defaults to None.
        method (str): keyword-only; ``'log'`` (potentials, stable for any eps), ``'exp'`` (scalings u, v;
            with a shared (m, n) cost and ``return_plan=False`` it needs O(N (m + n)) memory beyond K) or
            ``'auto'`` (``'exp'`` while max(cost) / eps <= :data:`EXP_DOMAIN_MAX_RATIO`, else ``'log'``).
            Defaults to ``'log'``.
        return_plan (bool): keyword-only; also return the (..., m, n) plan. Defaults to True.

    Returns:
        tuple[Tensor, Tensor | None]: the transport cost <P, C> (...,) and the plan P (..., m, n) (None when
        ``return_plan`` is False).

    Raises:
        ValueError: naming the argument, for eps <= 0, n_iters < 1, an unknown method, a non-finite or
            negative cost, or marginals that do not match the cost's shape.
    """
    if not (math.isfinite(float(eps)) and eps > 0):
        raise ValueError(f'sinkhorn: eps must be a finite number > 0, got {eps!r}')
    if int(n_iters) != n_iters or n_iters < 1:
        raise ValueError(f'sinkhorn: n_iters must be an integer >= 1, got {n_iters!r}')
    if method not in SINKHORN_METHODS:
        raise ValueError(f'sinkhorn: method must be one of {SINKHORN_METHODS}, got {method!r}')
    if cost.dim() < 2:
        raise ValueError(f'sinkhorn: cost must be (m, n) or (..., m, n), got shape {tuple(cost.shape)}')
    if not torch.isfinite(cost).all():
        raise ValueError('sinkhorn: cost has non-finite entries (NaN or inf)')
    if (cost < 0).any():
        raise ValueError('sinkhorn: cost has negative entries')
    la, lb = _marginal(a, log_a, 'a'), _marginal(b, log_b, 'b')
    m, n = cost.shape[-2:]
    if la.size(-1) != m or lb.size(-1) != n:
        raise ValueError(f'sinkhorn: cost is {m} x {n} but a has {la.size(-1)} and b {lb.size(-1)} entries')
    if method == 'auto':
        method = 'exp' if float(cost.max()) / eps <= EXP_DOMAIN_MAX_RATIO else 'log'
    if method == 'exp':
        return _sinkhorn_exp(cost, la, lb, eps, int(n_iters), return_plan)
    return _sinkhorn_log(cost, la, lb, eps, int(n_iters), return_plan)


def _sinkhorn_log(cost: Tensor, log_a: Tensor, log_b: Tensor, eps: float, n_iters: int,
                  return_plan: bool) -> Tuple[Tensor, Optional[Tensor]]:
    neg = -cost / eps
    g = torch.zeros_like(log_b).masked_fill(log_b == -math.inf, -math.inf)     # v = 1 on b's support
    for _ in range(n_iters):
        f = eps * (log_a - (neg + g[..., None, :] / eps).logsumexp(-1))
        g = eps * (log_b - (neg + f[..., :, None] / eps).logsumexp(-2))
    plan = (neg + (f[..., :, None] + g[..., None, :]) / eps).exp()
    return (plan * cost).sum((-2, -1)), plan if return_plan else None


def _apply(matrix: Tensor, vec: Tensor) -> Tensor:
    """``matrix @ vec`` for a (m, n) matrix shared by the batch (one GEMM) or (..., m, n) matrices."""
    if matrix.dim() == 2:
        return vec @ matrix.transpose(0, 1)
    return (matrix @ vec[..., None])[..., 0]


def _sinkhorn_exp(cost: Tensor, log_a: Tensor, log_b: Tensor, eps: float, n_iters: int,
                  return_plan: bool) -> Tuple[Tensor, Optional[Tensor]]:
    a, b = log_a.exp(), log_b.exp()
    kernel = (-cost / eps).exp()
    kc = kernel * cost
    v = (b > 0).to(b.dtype)
    for _ in range(n_iters):
        u = a / _apply(kernel, v)
        v = b / _apply(kernel.transpose(-2, -1), u)
    total = (u * _apply(kc, v)).sum(-1)
    plan = u[..., :, None] * kernel * v[..., None, :] if return_plan else None
    return total, plan
