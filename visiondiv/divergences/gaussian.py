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
    """sqrt(max(x, 0)) with a finite gradient: linear below ``eps`` (continuous at eps).

    Above ``eps`` it is sqrt(x); at or below it is max(x, 0) / sqrt(eps), which meets sqrt(eps) at ``eps``. The
    gradient is therefore at most 1 / sqrt(eps) (0 for x < 0) instead of infinite at 0.

    Args:
        x (Tensor): values of any shape; negative entries count as 0.
        eps (float): where the square root turns linear, > 0. Defaults to 1e-7.

    Returns:
        Tensor: the root, same shape as ``x``, >= 0.
    """
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
    """delta^T Sigma_g^-1 delta, the squared Mahalanobis length of ``delta`` under ``g``'s covariance.

    Computed in ``g``'s principal axes, u^2 / var_1 + v^2 / var_2, so no inverse is formed.

    Args:
        delta (Tensor): vectors (..., 2), e.g. the difference of two means.
        g (Gaussian2D): the Gaussians whose covariance is used, batch shape broadcastable with (...).

    Returns:
        Tensor: one non-negative value per vector, shape (...).
    """
    u, v = g.to_frame(delta)
    return u * u / g.var[..., 0] + v * v / g.var[..., 1]


def kl_divergence(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """KL(N_p || N_q); ``alpha`` divides the centre term as in mmrotate (d^2 / alpha^2).

    KL = 1/2 [tr(Sq^-1 Sp) + d^T Sq^-1 d / alpha^2 - 2 + ln|Sq| - ln|Sp|], d = mu_p - mu_q, computed in ``q``'s
    axes. The direction matters: ``p`` is the distribution the expectation is taken under, ``q`` the reference
    (mmrotate's "stable" KLD is ``kl_divergence(target, pred)``, see
    :func:`~visiondiv.models.losses.gaussian_distance`).

    Args:
        p (Gaussian2D): the first Gaussians (batch shape ...).
        q (Gaussian2D): the second Gaussians, broadcastable with ``p``.
        alpha (float): scale of the centre term: d^T Sq^-1 d is divided by alpha^2. Defaults to 1.0.

    Returns:
        Tensor: one divergence per pair, shape (...), >= 0 (0 for identical Gaussians).
    """
    p11, p22 = p.variances_in_frame(q.angle)
    trace = p11 / q.var[..., 0] + p22 / q.var[..., 1]
    maha = mahalanobis_sq(p.mu - q.mu, q)
    return 0.5 * (trace + maha / (alpha * alpha) - 2 + q.log_det() - p.log_det())


def jeffreys_divergence(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """Jeffreys divergence KL(p||q) + KL(q||p) (symmetric).

    Args:
        p (Gaussian2D): the first Gaussians (batch shape ...).
        q (Gaussian2D): the second Gaussians, broadcastable with ``p``.
        alpha (float): divides the centre term of both KLs by alpha^2, as in :func:`kl_divergence`.
            Defaults to 1.0.

    Returns:
        Tensor: one divergence per pair, shape (...), >= 0. ``GDLoss``'s ``jd`` is half of it.
    """
    return kl_divergence(p, q, alpha) + kl_divergence(q, p, alpha)


def wasserstein_sq(p: Gaussian2D, q: Gaussian2D, alpha: float = 1.0) -> Tensor:
    """Squared 2-Wasserstein distance; ``alpha^2`` weighs the shape term (GWD).

    W^2 = |d|^2 + alpha^2 [tr Sp + tr Sq - 2 sqrt(tr(Sp Sq) + 2 sqrt(|Sp||Sq|))].

    The inner root uses :func:`safe_sqrt` and the bracket (the shape term) is clamped at 0 against rounding.
    Symmetric in ``p`` and ``q``; it is the square, not the distance (take :func:`safe_sqrt` for W).

    Args:
        p (Gaussian2D): the first Gaussians (batch shape ...).
        q (Gaussian2D): the second Gaussians, broadcastable with ``p``.
        alpha (float): the shape term is multiplied by alpha^2; the centre term |d|^2 is not scaled.
            Defaults to 1.0.

    Returns:
        Tensor: W^2 per pair, shape (...), >= 0.
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

    Args:
        p (Gaussian2D): the first Gaussians (batch shape ...).
        q (Gaussian2D): the second Gaussians, broadcastable with ``p``.

    Returns:
        Tensor: one distance per pair, shape (...), >= 0 and symmetric in ``p`` and ``q``.
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

    Only the covariances enter: the means are ignored (``KFLoss`` adds a separate centre term).

    Args:
        p (Gaussian2D): the first Gaussians (batch shape ...).
        q (Gaussian2D): the second Gaussians, broadcastable with ``p``.
        eps (float): added to the denominator V_p + V_q - V_S. Defaults to 1e-6.

    Returns:
        Tensor: KFIoU per pair, shape (...), in [0, 1/3] (1/3 only for equal covariances, eps aside).
    """
    _, det_sum = _trace_and_det_sum(p, q)
    vol_p, vol_q = 4 * p.sqrt_det(), 4 * q.sqrt_det()
    vol_s = 4 * p.sqrt_det() * q.sqrt_det() / det_sum.sqrt()
    return vol_s / (vol_p + vol_q - vol_s + eps)


def postprocess_distance(distance: Tensor, fun: str = 'log1p', tau: float = 1.0) -> Tensor:
    """Map a distance to a loss: f in {log1p, sqrt, none}; with tau >= 1, 1 - 1/(tau + f(D)).

    mmrotate's ``postprocess`` of the Gaussian losses (``sqrt`` here is :func:`safe_sqrt`). With tau < 1 the
    result is f(D) itself.

    Args:
        distance (Tensor): distances D >= 0, any shape.
        fun (str): f: ``'log1p'``, ``'sqrt'`` or ``'none'`` (identity). Defaults to ``'log1p'``.
        tau (float): tau >= 1 maps f(D) to 1 - 1/(tau + f(D)), a loss in [1 - 1/tau, 1); below 1 it has no
            effect. Defaults to 1.0.

    Returns:
        Tensor: the loss, same shape as ``distance``.

    Raises:
        ValueError: if ``fun`` is none of the three.
    """
    if fun == 'log1p':
        distance = torch.log1p(distance)
    elif fun == 'sqrt':
        distance = safe_sqrt(distance)
    elif fun != 'none':
        raise ValueError(f"fun must be 'log1p', 'sqrt' or 'none', got {fun!r}")
    if tau >= 1.0:
        return 1 - 1 / (tau + distance)
    return distance
