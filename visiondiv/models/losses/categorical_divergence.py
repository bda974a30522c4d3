"""Divergences between categorical distributions (class-ratio vectors, softmax outputs), written once."""
import torch
from torch import Tensor


def categorical_kl(p: Tensor, q: Tensor, dim: int = -1, eps: float = 1e-8) -> Tensor:
    """KL(p || q) = sum_c p_c (log p_c - log q_c) along ``dim``; 0 log 0 = 0, q clamped at ``eps``."""
    log_p = torch.where(p > 0, p.clamp_min(eps).log(), torch.zeros_like(p))
    return (p * (log_p - q.clamp_min(eps).log())).sum(dim)


def entropy(p: Tensor, dim: int = -1, weight: Tensor = None, eps: float = 1e-8) -> Tensor:
    """Shannon entropy -sum_c w_c p_c log p_c along ``dim`` (natural log); ``weight`` per class."""
    terms = -p * p.clamp_min(eps).log()
    if weight is not None:
        shape = [1] * p.dim()
        shape[dim] = -1
        terms = terms * weight.reshape(shape)
    return terms.sum(dim)
