"""Divergences between categorical distributions (class-ratio vectors, softmax outputs), written once."""
from typing import Optional

import torch
from torch import Tensor


def categorical_kl(p: Tensor, q: Tensor, dim: int = -1, eps: float = 1e-8, *, log_p: Optional[Tensor] = None,
                   log_q: Optional[Tensor] = None) -> Tensor:
    """KL(p || q) = sum_c p_c (log p_c - log q_c) along ``dim``; 0 log 0 = 0, q clamped at ``eps``.

    ``log_p`` / ``log_q`` replace the logarithms of ``p`` / ``q`` when given: exact log-probabilities from
    ``log_softmax`` (no clamping, so no bias where a softmax underflows), or another operand on purpose
    (LegoGCD's official dual-view term takes ``log_softmax`` of probabilities, see ``DualViewKLLoss``).
    """
    if log_p is None:
        log_p = torch.where(p > 0, p.clamp_min(eps).log(), torch.zeros_like(p))
    if log_q is None:
        log_q = q.clamp_min(eps).log()
    return (p * (log_p - log_q)).sum(dim)


def cross_entropy(p: Tensor, log_q: Tensor, dim: int = -1) -> Tensor:
    """Cross-entropy H(p, q) = -sum_c p_c log q_c along ``dim``, from the log-probabilities of q
    (``log_softmax`` of logits); ``p`` is a distribution (soft targets), H(p, q) = H(p) + KL(p || q)."""
    return -(p * log_q).sum(dim)


def entropy(p: Tensor, dim: int = -1, weight: Tensor = None, eps: float = 1e-8) -> Tensor:
    """Shannon entropy -sum_c w_c p_c log p_c along ``dim`` (natural log); ``weight`` per class."""
    terms = -p * p.clamp_min(eps).log()
    if weight is not None:
        shape = [1] * p.dim()
        shape[dim] = -1
        terms = terms * weight.reshape(shape)
    return terms.sum(dim)
