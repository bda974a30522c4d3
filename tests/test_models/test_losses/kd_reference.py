"""Float64 references of the logit-distillation losses, written from the formulas with numpy and loops, and the
degenerate inputs the loss tests share.

Nothing here is shared with visiondiv's implementation.
"""
import math

import numpy as np


def softmax(z, tau=1.0):
    z = np.asarray(z, dtype=np.float64) / tau
    e = np.exp(z - z.max())
    return e / e.sum()


def kl(p, q):
    """KL(p || q) with 0 log 0 = 0, one distribution."""
    return sum(a * (math.log(a) - math.log(b)) for a, b in zip(p, q) if a > 0)


def entropy(p):
    return -sum(a * math.log(a) for a in p if a > 0)


def kd(s, t, tau):
    """mean_n tau^2 KL(p_t || p_s)."""
    return float(np.mean([tau * tau * kl(softmax(tr, tau), softmax(sr, tau)) for sr, tr in zip(s, t)]))


def dkd_terms(s_row, t_row, y, tau):
    """(TCKD, NCKD) of one sample, as the DKD paper defines them (with tau^2)."""
    ps, pt = softmax(s_row, tau), softmax(t_row, tau)
    bs, bt = [ps[y], 1 - ps[y]], [pt[y], 1 - pt[y]]
    keep = [c for c in range(len(ps)) if c != y]
    hs = [ps[c] / (1 - ps[y]) for c in keep]
    ht = [pt[c] / (1 - pt[y]) for c in keep]
    return tau * tau * kl(bt, bs), tau * tau * kl(ht, hs)


def random_logits(n, c, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)) * scale, rng.normal(size=(n, c)) * scale, rng.integers(0, c, size=n)


#: the degenerate logit pairs every distillation loss must stay finite on
DEGENERATE_CASES = ('one_hot', 'equal', 'huge')


def degenerate_logits(case, hot=0):
    """(student, teacher) float32 logits (3, 5) of a degenerate ``case``: a one-hot teacher (class ``hot`` at 1e4,
    the others at -1e4) against a random student, both all zero, or opposite saturated predictions. The student
    requires grad."""
    import torch
    zs = torch.randn(3, 5)
    if case == 'one_hot':
        zt = torch.full((3, 5), -1e4)
        zt[:, hot] = 1e4
    elif case == 'equal':
        zs, zt = torch.zeros(3, 5), torch.zeros(3, 5)
    else:
        zs, zt = torch.tensor([[1e4, -1e4, 0, 0, 0]] * 3), torch.tensor([[-1e4, 1e4, 0, 0, 0]] * 3)
    return zs.requires_grad_(True), zt
