"""Rotated boxes as 2-D Gaussians, written once for every Gaussian loss.

A box (cx, cy, w, h, t) maps to N(mu, Sigma) with mu = (cx, cy) and
Sigma = R(t) diag(w^2/4, h^2/4) R(t)^T (Yang et al., GWD/KLD). The
divergences work on the principal-axis form (mu, variances, angle) rather
than on the 2x2 matrix: determinants and inverses then come out exactly
(no ad - b^2 cancellation), which keeps zero-size, huge and very elongated
boxes finite, and everything stays element-wise (no batched linalg).
"""
from typing import NamedTuple, Tuple

import torch
from torch import Tensor

from .angle import regularize_rboxes

#: box sides are clamped to this range before any Gaussian is formed (as in mmrotate)
MIN_SIDE, MAX_SIDE = 1e-7, 1e7
#: variance floor matching MIN_SIDE, used when a Gaussian comes from a matrix
MIN_VAR = (MIN_SIDE / 2) ** 2


class Gaussian2D(NamedTuple):
    """A 2-D Gaussian in principal-axis form.

    Attributes:
        mu (Tensor): means, (..., 2).
        var (Tensor): variances along the two principal axes, (..., 2).
        angle (Tensor): angle of the first principal axis in radians, (...).
    """
    mu: Tensor
    var: Tensor
    angle: Tensor

    @classmethod
    def from_rbox(cls, boxes: Tensor) -> 'Gaussian2D':
        """Gaussian of rotated boxes (..., 5); sides clamped to [1e-7, 1e7]."""
        if boxes.shape[-1] != 5:
            raise ValueError(f'rotated boxes need 5 values in the last dim, got shape {tuple(boxes.shape)}')
        wh = boxes[..., 2:4].clamp(MIN_SIDE, MAX_SIDE)
        return cls(boxes[..., :2], wh * wh / 4, boxes[..., 4])

    @classmethod
    def from_sigma(cls, mu: Tensor, sigma: Tensor) -> 'Gaussian2D':
        """Principal form of N(mu, sigma) for symmetric sigma (..., 2, 2), closed-form eigen."""
        a, b, d = sigma[..., 0, 0], sigma[..., 0, 1], sigma[..., 1, 1]
        half_diff = (a - d) / 2
        r2 = half_diff * half_diff + b * b
        isotropic = r2 == 0
        # atan2 and sqrt have no gradient at 0: feed them a dummy there (angle is arbitrary anyway)
        r = torch.where(isotropic, torch.zeros_like(r2), r2.clamp_min(1e-30).sqrt())
        angle = 0.5 * torch.atan2(torch.where(isotropic, torch.zeros_like(b), 2 * b),
                                  torch.where(isotropic, torch.ones_like(a), a - d))
        mean = (a + d) / 2
        var = torch.stack([(mean + r).clamp_min(MIN_VAR), (mean - r).clamp_min(MIN_VAR)], -1)
        return cls(mu, var, angle)

    @classmethod
    def from_xy_stddev_pearson(cls, params: Tensor) -> 'Gaussian2D':
        """Gaussian from (x, y, std_x, std_y, pearson rho), mmrotate's ``xy_stddev_pearson``."""
        std = params[..., 2:4]
        rho = params[..., 4].clamp(-1 + 1e-7, 1 - 1e-7)
        cov = rho * std[..., 0] * std[..., 1]
        var = std * std
        sigma = torch.stack([var[..., 0], cov, cov, var[..., 1]], -1).reshape(*params.shape[:-1], 2, 2)
        return cls.from_sigma(params[..., :2], sigma)

    def sigma(self) -> Tensor:
        """Covariance matrices R diag(var) R^T, (..., 2, 2)."""
        c, s = torch.cos(self.angle), torch.sin(self.angle)
        v1, v2 = self.var.unbind(-1)
        a = v1 * c * c + v2 * s * s
        d = v1 * s * s + v2 * c * c
        b = (v1 - v2) * c * s
        return torch.stack([a, b, b, d], -1).reshape(*self.angle.shape, 2, 2)

    def log_det(self) -> Tensor:
        """ln |Sigma|, exact from the principal variances."""
        return self.var.log().sum(-1)

    def sqrt_det(self) -> Tensor:
        """sqrt(|Sigma|) = w h / 4 for a box."""
        return (self.var[..., 0] * self.var[..., 1]).sqrt()

    def variances_in_frame(self, angle: Tensor) -> Tuple[Tensor, Tensor]:
        """Diagonal of Sigma expressed in axes turned by ``angle``."""
        delta = self.angle - angle
        c2, s2 = torch.cos(delta).square(), torch.sin(delta).square()
        v1, v2 = self.var.unbind(-1)
        return v1 * c2 + v2 * s2, v1 * s2 + v2 * c2

    def to_frame(self, vec: Tensor) -> Tuple[Tensor, Tensor]:
        """Coordinates of ``vec`` (..., 2) along this Gaussian's principal axes."""
        c, s = torch.cos(self.angle), torch.sin(self.angle)
        x, y = vec.unbind(-1)
        return c * x + s * y, c * y - s * x

    def float(self) -> 'Gaussian2D':
        return Gaussian2D(*(t.float() for t in self))


def rbox2gaussian(boxes: Tensor) -> Tuple[Tensor, Tensor]:
    """Rotated boxes (..., 5) to (mu (..., 2), sigma (..., 2, 2)).

    Sigma = R(t) diag(w^2/4, h^2/4) R(t)^T, the sides clamped to [1e-7, 1e7] first.

    Args:
        boxes (Tensor): Rotated boxes (..., 5): cx, cy, w, h, t, t in radians.

    Returns:
        tuple[Tensor, Tensor]: ``mu`` (..., 2), the centres, and ``sigma`` (..., 2, 2), the covariances.

    Raises:
        ValueError: the last dim of ``boxes`` is not 5.
    """
    g = Gaussian2D.from_rbox(boxes)
    return g.mu, g.sigma()


def gaussian2rbox(mu: Tensor, sigma: Tensor, angle_version: str = 'le90') -> Tensor:
    """Inverse of :func:`rbox2gaussian`: w = 2 sqrt(lambda_1), h = 2 sqrt(lambda_2).

    lambda_1 >= lambda_2 are the eigenvalues of ``sigma`` (floored at (1e-7 / 2)^2); the box is then
    regularised to ``angle_version`` (:func:`regularize_rboxes`).

    Args:
        mu (Tensor): Means (..., 2).
        sigma (Tensor): Symmetric covariance matrices (..., 2, 2).
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``. Defaults to 'le90'.

    Returns:
        Tensor: Rotated boxes (..., 5): cx, cy, w, h, t, t in radians.

    Raises:
        ValueError: an unknown ``angle_version``.
    """
    g = Gaussian2D.from_sigma(mu, sigma)
    wh = 2 * g.var.sqrt()
    boxes = torch.cat([g.mu, wh, g.angle[..., None]], dim=-1)
    return regularize_rboxes(boxes, angle_version)
