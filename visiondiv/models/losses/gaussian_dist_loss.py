"""Gaussian-distribution losses for rotated boxes: ``GDLoss``, KLD (Yang et al., NeurIPS 2021) and its family."""
from typing import Callable, Dict, Optional

import torch
from torch import Tensor

from visiondiv.divergences.gaussian import (bhattacharyya_distance, jeffreys_divergence, kl_divergence,
                                            postprocess_distance, safe_sqrt, wasserstein_sq)
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D
from .base_box_loss import BaseBoxLoss


def _maybe_sqrt(d: Tensor, sqrt: bool) -> Tensor:
    return safe_sqrt(d) if sqrt else d


def gaussian_distance(pred: Gaussian2D, target: Gaussian2D, loss_type: str, alpha: float = 1.0,
                      sqrt: bool = True, normalize: bool = True) -> Tensor:
    """The (pre-``fun``) distance of mmrotate's ``GDLoss`` for each ``loss_type``.

    - ``kld``: KL(N_target || N_pred) (mmrotate's "stable" KLD);
    - ``kld_reverse``: KL(N_pred || N_target);
    - ``jd``: half the Jeffreys divergence;
    - ``kld_symmax`` / ``kld_symmin``: max/min of the two directions;
    - ``gwd``: Wasserstein distance, divided by 2 (|Sp||St|)^(1/8) when ``normalize``;
    - ``bcd``: Bhattacharyya distance.

    ``sqrt`` applies to every type but ``gwd`` (which is already a distance).

    Args:
        pred (Gaussian2D): Gaussians of the predicted boxes (batch shape ...).
        target (Gaussian2D): Gaussians of the target boxes, broadcastable with ``pred``.
        loss_type (str): ``kld``, ``kld_reverse``, ``jd``, ``kld_symmax``, ``kld_symmin``, ``gwd`` or ``bcd``.
        alpha (float): for the KL types (all but ``gwd`` and ``bcd``) the centre term is divided by alpha^2;
            for ``gwd`` the shape term is multiplied by alpha^2; ``bcd`` ignores it. Defaults to 1.0.
        sqrt (bool): take the square root (:func:`~visiondiv.divergences.gaussian.safe_sqrt`) of the
            divergence, for every type but ``gwd``; ``kld_symmax``/``kld_symmin`` compare the roots.
            Defaults to True.
        normalize (bool): divide the ``gwd`` distance by 2 (|Sp||St|)^(1/8) (the divisor clamped at 1e-7);
            the other types ignore it. Defaults to True.

    Returns:
        Tensor: the distance D of each pair, shape (...), >= 0.

    Raises:
        ValueError: for an unknown ``loss_type``.
    """
    if loss_type == 'kld':
        return _maybe_sqrt(kl_divergence(target, pred, alpha), sqrt)
    if loss_type == 'kld_reverse':
        return _maybe_sqrt(kl_divergence(pred, target, alpha), sqrt)
    if loss_type == 'jd':
        return _maybe_sqrt(0.5 * jeffreys_divergence(pred, target, alpha), sqrt)
    if loss_type in ('kld_symmax', 'kld_symmin'):
        tp = _maybe_sqrt(kl_divergence(target, pred, alpha), sqrt)
        pt = _maybe_sqrt(kl_divergence(pred, target, alpha), sqrt)
        return torch.maximum(tp, pt) if loss_type == 'kld_symmax' else torch.minimum(tp, pt)
    if loss_type == 'bcd':
        return _maybe_sqrt(bhattacharyya_distance(pred, target), sqrt)
    if loss_type == 'gwd':
        distance = safe_sqrt(wasserstein_sq(pred, target, alpha))
        if normalize:
            scale = 2 * (pred.sqrt_det() * target.sqrt_det()).sqrt().sqrt().clamp_min(1e-7)
            distance = distance / scale
        return distance
    raise ValueError(f'unknown loss_type {loss_type!r}')


# 'KLDLoss': the name visiondiv's first configs used (after the paper); kept so that they still build
@MODELS.register_module(name=['GDLoss', 'KLDLoss'])
class GDLoss(BaseBoxLoss):
    """Gaussian-distribution loss between rotated boxes (seven divergences); KLD by default.

    mmrotate's ``GDLoss`` (also registered as ``KLDLoss``), with mmrotate's
    arguments and values: ``loss = loss_weight * post(D)`` where D is
    :func:`gaussian_distance` and ``post`` applies ``fun`` and ``tau``
    (1 - 1/(tau + f(D)) when tau >= 1).

    Args:
        loss_type (str): kld, kld_reverse, jd, kld_symmax, kld_symmin, gwd or bcd (see
            :func:`gaussian_distance`). Defaults to ``'kld'``.
        representation (str): ``xy_wh_r`` (boxes) or ``xy_stddev_pearson`` ((x, y, std_x, std_y, rho)).
            Defaults to ``'xy_wh_r'``.
        fun (str): log1p, sqrt or none. Defaults to ``'log1p'``.
        tau (float): tau >= 1 turns on 1 - 1/(tau + f(D)); below 1 the loss is f(D). Defaults to 0.0.
        alpha (float): scale of the centre term (divides it by alpha^2 for the KL types; for ``gwd`` it
            multiplies the shape term by alpha^2 instead; ``bcd`` ignores it). Defaults to 1.0.
        sqrt (bool): take the square root of D first (mmrotate's default True; not for ``gwd``).
            Defaults to True.
        normalize (bool): GWD normalisation (divide by 2 (|Sp||St|)^(1/8)). Defaults to True.
        reduction (str): none, mean or sum. Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.

    Inputs are decoded boxes (n, 5). Half-precision inputs are computed in
    fp32 and returned in the input dtype. Targets with a side <= 1e-6 (or a
    non-finite value) get zero loss (mmrotate#301), for ``xy_wh_r`` only:
    ``xy_stddev_pearson`` targets are not masked.

    Raises:
        ValueError: for an unknown ``loss_type``, ``representation``, ``fun`` or ``reduction``.
    """

    box_input = 'decoded'
    LOSS_TYPES = ('kld', 'kld_reverse', 'jd', 'kld_symmax', 'kld_symmin', 'gwd', 'bcd')
    REPRESENTATIONS: Dict[str, Callable[[Tensor], Gaussian2D]] = {
        'xy_wh_r': Gaussian2D.from_rbox,
        'xy_stddev_pearson': Gaussian2D.from_xy_stddev_pearson,
    }

    def __init__(self, loss_type: str = 'kld', representation: str = 'xy_wh_r', fun: str = 'log1p',
                 tau: float = 0.0, alpha: float = 1.0, sqrt: bool = True, normalize: bool = True,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        if loss_type not in self.LOSS_TYPES:
            raise ValueError(f'loss_type must be one of {self.LOSS_TYPES}, got {loss_type!r}')
        if representation not in self.REPRESENTATIONS:
            raise ValueError(f'representation must be one of {sorted(self.REPRESENTATIONS)}, '
                             f'got {representation!r}')
        if fun not in ('log1p', 'sqrt', 'none'):
            raise ValueError(f"fun must be 'log1p', 'sqrt' or 'none', got {fun!r}")
        super().__init__(reduction=reduction, loss_weight=loss_weight)
        self.loss_type, self.representation = loss_type, representation
        self.fun, self.tau, self.alpha = fun, tau, alpha
        self.sqrt, self.normalize = sqrt, normalize

    @property
    def degenerate_target(self) -> Optional[str]:
        """Boxes (``xy_wh_r``) are masked when degenerate; ``xy_stddev_pearson`` parameters are not."""
        return 'target' if self.representation == 'xy_wh_r' else None

    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        """``post(D)`` of each box pair, D the :func:`gaussian_distance` of their Gaussians."""
        to_gaussian = self.REPRESENTATIONS[self.representation]
        distance = gaussian_distance(to_gaussian(pred), to_gaussian(target), self.loss_type, self.alpha, self.sqrt,
                                     self.normalize)
        return postprocess_distance(distance, self.fun, self.tau)
