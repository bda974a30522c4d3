"""Divergences between 2-D Gaussians, written once for every Gaussian loss.

All functions take :class:`~visiondiv.structures.bbox.Gaussian2D` (principal-axis
form) and return one value per pair. Each term is a sum of non-negative
parts computed in the axes of one of the Gaussians, so no 2x2 inverse or
determinant is formed and nothing cancels catastrophically: zero-size,
huge and very elongated boxes stay finite.

Notation: Gaussian ``p`` has variances (p1, p2) along its axes; ``q``'s
covariance written in ``p``'s axes has diagonal (q11, q22). Then
tr(Sigma_p^-1 Sigma_q) = q11/p1 + q22/p2 and
|Sigma_p + Sigma_q| = p1 p2 + q1 q2 + p2 q11 + p1 q22 (2x2 identity
det(A + B) = det A + det B + tr(adj(A) B)).
"""
import math
from typing import Tuple

import torch
from torch import Tensor

from visiondiv.structures.bbox import Gaussian2D


def safe_sqrt(x: Tensor, eps: float = 1e-7) -> Tensor:
    """sqrt(max(x, 0)) with a finite gradient: linear below ``eps`` (continuous at eps)."""
    root = x.clamp_min(eps).sqrt()
    return torch.where(x > eps, root, x.clamp_min(0) / root)


def _trace_and_det_sum(p: Gaussian2D, q: Gaussian2D) -> Tuple[Tensor, Tensor]:
    """tr(Sigma_p^-1 Sigma_q) and |Sigma_p + Sigma_q|."""
    q11, q22 = q.variances_in_frame(p.angle)
    p1, p2 = p.var.unbind(-1)
    trace = q11 / p1 + q22 / p2
    det_sum = p1 * p2 + q.var[..., 0] * q.var[..., 1] + p2 * q11 + p1 * q22
    return trace, det_sum


def mahalanobis_sq(delta: Tensor, g: Gaussian2D) -> Tensor:
    """delta^T Sigma_g^-1 delta."""
    u, v = g.to_frame(delta)
    return u * u / g.var[..., 0] + v * v / g.var[..., 1]


def kl_divergence(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """KL(N_p || N_q); ``alpha`` divides the centre term as in mmrotate (d^2 / alpha^2).

    KL = 1/2 [tr(Sq^-1 Sp) + d^T Sq^-1 d / alpha^2 - 2 + ln|Sq| - ln|Sp|].
    """
    p11, p22 = p.variances_in_frame(q.angle)
    trace = p11 / q.var[..., 0] + p22 / q.var[..., 1]
    maha = mahalanobis_sq(p.mu - q.mu, q)
    return 0.5 * (trace + maha / (alpha * alpha) - 2 + q.log_det() - p.log_det())


def jeffreys_divergence(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """Jeffreys divergence KL(p||q) + KL(q||p) (symmetric)."""
    return kl_divergence(p, q, alpha) + kl_divergence(q, p, alpha)


def wasserstein_sq(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """Squared 2-Wasserstein distance; ``alpha^2`` weighs the shape term (GWD).

    W^2 = |d|^2 + alpha^2 [tr Sp + tr Sq - 2 sqrt(tr(Sp Sq) + 2 sqrt(|Sp||Sq|))].
    """
    q11, q22 = q.variances_in_frame(p.angle)
    p1, p2 = p.var.unbind(-1)
    tr_pq = p1 * q11 + p2 * q22
    coupling = safe_sqrt(tr_pq + 2 * p.sqrt_det() * q.sqrt_det())
    shape = p1 + p2 + q.var.sum(-1) - 2 * coupling
    centre = (p.mu - q.mu).square().sum(-1)
    return centre + alpha * alpha * shape.clamp_min(0)


def bhattacharyya_distance(p: Gaussian2D, q: Gaussian2D) -> Tensor:
    """Bhattacharyya distance with S = (Sp + Sq) / 2.

    D_B = 1/8 d^T S^-1 d + 1/2 ln(|S| / sqrt(|Sp||Sq|)); adj(Sp + Sq) = adj Sp + adj Sq
    for 2x2 matrices, so d^T (Sp + Sq)^-1 d needs no inverse either.
    """
    _, det_sum = _trace_and_det_sum(p, q)
    d = p.mu - q.mu
    up, vp = p.to_frame(d)
    uq, vq = q.to_frame(d)
    adj_form = p.var[..., 1] * up * up + p.var[..., 0] * vp * vp + \
        q.var[..., 1] * uq * uq + q.var[..., 0] * vq * vq
    centre = 0.25 * adj_form / det_sum
    shape = 0.5 * (det_sum.log() - math.log(4.0) - 0.5 * (p.log_det() + q.log_det()))
    return centre + shape


def kalman_overlap(p: Gaussian2D, q: Gaussian2D, eps: float = 1e-6) -> Tensor:
    """KFIoU of two Gaussians (Yang et al., ICLR 2023).

    The Kalman product covariance S = Sp - K Sp with K = Sp (Sp + Sq)^-1
    equals Sp (Sp + Sq)^-1 Sq, so |S| = |Sp||Sq| / |Sp + Sq|. Box "volumes"
    are V = 4 sqrt|Sigma| and KFIoU = V_S / (V_p + V_q - V_S + eps), which is
    1/3 for identical Gaussians.
    """
    _, det_sum = _trace_and_det_sum(p, q)
    vol_p, vol_q = 4 * p.sqrt_det(), 4 * q.sqrt_det()
    vol_s = 4 * p.sqrt_det() * q.sqrt_det() / det_sum.sqrt()
    return vol_s / (vol_p + vol_q - vol_s + eps)


def postprocess_distance(distance: Tensor, fun: str = 'log1p', tau: float = 1.0) -> Tensor:
    """Map a distance to a loss: f in {log1p, sqrt, none}; with tau >= 1, 1 - 1/(tau + f(D))."""
    if fun == 'log1p':
        distance = torch.log1p(distance)
    elif fun == 'sqrt':
        distance = safe_sqrt(distance)
    elif fun != 'none':
        raise ValueError(f"fun must be 'log1p', 'sqrt' or 'none', got {fun!r}")
    if tau >= 1.0:
        return 1 - 1 / (tau + distance)
    return distance
