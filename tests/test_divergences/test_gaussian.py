"""Closed forms of the shared divergences, independent of the loss wrappers."""

import numpy as np
import pytest
import torch

from visiondiv.divergences import bhattacharyya_distance, jeffreys_divergence, kl_divergence, safe_sqrt, wasserstein_sq
from visiondiv.structures.bbox import Gaussian2D

from ..test_models.test_losses.reference import gaussian, kl


def g(box):
    return Gaussian2D.from_rbox(torch.tensor([box], dtype=torch.float64))


def test_kl_both_directions_against_matrices():
    a, b = [1.0, 2.0, 8.0, 3.0, 0.4], [0.0, -1.0, 5.0, 5.0, -1.1]
    (ma, sa), (mb, sb) = gaussian(a), gaussian(b)
    assert kl_divergence(g(a), g(b)).item() == pytest.approx(kl(ma, sa, mb, sb), rel=1e-12)
    assert kl_divergence(g(b), g(a)).item() == pytest.approx(kl(mb, sb, ma, sa), rel=1e-12)
    assert jeffreys_divergence(g(a), g(b)).item() == pytest.approx(
        kl(ma, sa, mb, sb) + kl(mb, sb, ma, sa), rel=1e-12)


def test_wasserstein_axis_aligned_closed_form():
    # commuting covariances: W^2 = |d|^2 + sum (sqrt(var_a) - sqrt(var_b))^2 = |d|^2 + (dw^2 + dh^2)/4
    a, b = [0.0, 0.0, 10.0, 4.0, 0.0], [3.0, 4.0, 6.0, 8.0, 0.0]
    expected = 25 + ((10 - 6) ** 2 + (4 - 8) ** 2) / 4
    assert wasserstein_sq(g(a), g(b)).item() == pytest.approx(expected, rel=1e-12)


def test_bhattacharyya_1d_like_closed_form():
    # equal covariances: D_B = 1/8 d^T S^-1 d
    a, b = [0.0, 0.0, 4.0, 2.0, 0.3], [1.0, 1.0, 4.0, 2.0, 0.3]
    _, s = gaussian(a)
    d = np.array([1.0, 1.0])
    assert bhattacharyya_distance(g(a), g(b)).item() == pytest.approx(d @ np.linalg.inv(s) @ d / 8, rel=1e-12)


def test_safe_sqrt_value_and_gradient():
    x = torch.tensor([0.0, 1e-9, 4.0], dtype=torch.float64, requires_grad=True)
    y = safe_sqrt(x)
    assert y[0].item() == 0.0 and y[2].item() == 2.0
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad[2].item() == pytest.approx(0.25)
