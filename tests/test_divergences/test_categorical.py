"""Categorical divergences against float64 references written here (sums over classes, numpy)."""
import numpy as np
import pytest
import torch

from visiondiv.divergences import categorical_kl, cross_entropy, entropy

P = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25]])
Q = np.array([[0.5, 0.3, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])


def test_categorical_kl_equals_the_sum_with_0_log_0_taken_as_0():
    ref = [sum(p * np.log(p / q) for p, q in zip(pr, qr) if p > 0) for pr, qr in zip(P, Q)]
    out = categorical_kl(torch.from_numpy(P), torch.from_numpy(Q))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)
    # KL(p || p) = 0; along another dim
    assert categorical_kl(torch.from_numpy(P), torch.from_numpy(P)).abs().max() < 1e-12
    np.testing.assert_allclose(categorical_kl(torch.from_numpy(P.T), torch.from_numpy(Q.T), dim=0).numpy(), ref,
                               rtol=1e-12)


def test_categorical_kl_takes_exact_log_probabilities():
    logits_p, logits_q = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    p, q = logits_p.softmax(-1), logits_q.softmax(-1)
    out = categorical_kl(p, q, log_p=logits_p.log_softmax(-1), log_q=logits_q.log_softmax(-1))
    ref = (p * (p.log() - q.log())).sum(-1)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)


def test_cross_entropy_is_entropy_plus_kl():
    p, q = torch.from_numpy(Q), torch.from_numpy(P[::-1].copy()).clamp_min(1e-3)
    q = q / q.sum(-1, keepdim=True)
    h = cross_entropy(p, q.log())
    np.testing.assert_allclose(h.numpy(), (entropy(p) + categorical_kl(p, q)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(h.numpy(), -(Q * np.log(q.numpy())).sum(-1), rtol=1e-12)


def test_entropy_closed_forms_and_class_weights():
    # uniform over 4 classes: log 4; a one-hot: 0
    assert entropy(torch.full((4,), 0.25, dtype=torch.float64)).item() == pytest.approx(np.log(4), rel=1e-12)
    assert entropy(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-12)
    w = torch.tensor([1.0, 2.0, 0.0, 3.0], dtype=torch.float64)
    ref = [-sum(wc * p * np.log(p) for wc, p in zip(w.numpy(), row) if p > 0) for row in P]
    np.testing.assert_allclose(entropy(torch.from_numpy(P), weight=w).numpy(), ref, rtol=1e-12)
