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

    Args:
        p (Tensor): the first distribution (probabilities along ``dim``), the one the expectation is taken
            under; where it is 0 the term is 0.
        q (Tensor): the second distribution, broadcastable with ``p``.
        dim (int): the class dimension, summed over. Defaults to -1.
        eps (float): lower clamp of ``p`` (where p > 0) and ``q`` before their logarithms; unused for an
            operand whose log is given. Defaults to 1e-8.
        log_p (Tensor, optional): keyword-only; used instead of log ``p``. Defaults to None.
        log_q (Tensor, optional): keyword-only; used instead of log ``q``. Defaults to None.

    Returns:
        Tensor: one divergence per distribution, the shape of ``p`` without ``dim``; >= 0 (up to the clamp)
        when ``p`` and ``q`` are distributions and no other operand is passed as ``log_p``/``log_q``.
    """
    if log_p is None:
        log_p = torch.where(p > 0, p.clamp_min(eps).log(), torch.zeros_like(p))
    if log_q is None:
        log_q = q.clamp_min(eps).log()
    return (p * (log_p - log_q)).sum(dim)


def cross_entropy(p: Tensor, log_q: Tensor, dim: int = -1) -> Tensor:
    """Cross-entropy H(p, q) = -sum_c p_c log q_c along ``dim``, from the log-probabilities of q.

    ``p`` is a distribution (soft targets), H(p, q) = H(p) + KL(p || q). No clamping: ``log_q`` should be
    exact (``log_softmax`` of logits).

    Args:
        p (Tensor): the target distribution (probabilities along ``dim``).
        log_q (Tensor): log-probabilities of q, broadcastable with ``p``.
        dim (int): the class dimension, summed over. Defaults to -1.

    Returns:
        Tensor: one cross-entropy per distribution, the shape of ``p`` without ``dim``.
    """
    return -(p * log_q).sum(dim)


def entropy(p: Tensor, dim: int = -1, weight: Tensor = None, eps: float = 1e-8) -> Tensor:
    """Shannon entropy -sum_c w_c p_c log p_c along ``dim`` (natural log); ``weight`` per class.

    Args:
        p (Tensor): probabilities along ``dim``.
        dim (int): the class dimension, summed over. Defaults to -1.
        weight (Tensor, optional): one weight w_c per class (its numel must equal ``p.size(dim)``); None
            weighs every class 1. Defaults to None.
        eps (float): lower clamp of ``p`` inside the logarithm, so that 0 log 0 = 0. Defaults to 1e-8.

    Returns:
        Tensor: one entropy per distribution, the shape of ``p`` without ``dim``; in [0, ln C] for C classes
        without weights.
    """
    terms = -p * p.clamp_min(eps).log()
    if weight is not None:
        shape = [1] * p.dim()
        shape[dim] = -1
        terms = terms * weight.reshape(shape)
    return terms.sum(dim)
