import math

import numpy as np
import pytest
import torch

from visiondiv.divergences import kalman_overlap
from visiondiv.models.losses import KFLoss
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D

from .reference import kf_loss, kfiou
from .test_gaussian_dist_loss import degenerate_pairs, perturb, random_boxes


def deltas(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=torch.float64) * 0.3


@pytest.mark.parametrize('fun', ['none', 'ln', 'exp'])
def test_matches_float64_reference(fun):
    target_dec = random_boxes(64, 20)
    pred_dec = perturb(target_dec, 21)
    pred, target = deltas(64, 22), deltas(64, 23)
    loss = KFLoss(fun=fun, reduction='none')(pred, target, pred_decode=pred_dec,
                                                 targets_decode=target_dec)
    expected = [kf_loss(p.numpy(), t.numpy(), pd.numpy(), td.numpy(), fun)
                for p, t, pd, td in zip(pred, target, pred_dec, target_dec)]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-9, atol=1e-10)


def test_identical_boxes_kfiou_one_third():
    boxes = random_boxes(50, 24, scale=500)
    g = Gaussian2D.from_rbox(boxes)
    torch.testing.assert_close(kalman_overlap(g, g, eps=0.0), torch.full((50,), 1 / 3, dtype=torch.float64),
                               rtol=1e-12, atol=0)
    # and the loss with zero deltas is exactly 1 - 1/3 (up to eps in the denominator)
    z = torch.zeros(50, 5, dtype=torch.float64)
    loss = KFLoss(reduction='none')(z, z, pred_decode=boxes, targets_decode=boxes)
    torch.testing.assert_close(loss, torch.full_like(loss, 2 / 3), rtol=1e-6, atol=1e-6)


def test_kfiou_reference_values():
    a = np.array([0, 0, 10, 4, 0.3])
    b = np.array([1, -1, 6, 6, -0.5])
    g = kalman_overlap(Gaussian2D.from_rbox(torch.tensor(a[None])), Gaussian2D.from_rbox(torch.tensor(b[None])))
    assert g.item() == pytest.approx(kfiou(a, b), rel=1e-12)


def test_kfiou_is_scale_invariant_and_bounded():
    boxes = random_boxes(100, 25)
    other = perturb(boxes, 26)
    k1 = kalman_overlap(Gaussian2D.from_rbox(boxes), Gaussian2D.from_rbox(other), eps=0.0)
    scaled_a, scaled_b = boxes.clone(), other.clone()
    scaled_a[:, :4] *= 7
    scaled_b[:, :4] *= 7
    k2 = kalman_overlap(Gaussian2D.from_rbox(scaled_a), Gaussian2D.from_rbox(scaled_b), eps=0.0)
    torch.testing.assert_close(k1, k2, rtol=1e-10, atol=0)
    assert torch.all(k1 > 0) and torch.all(k1 <= 1 / 3 + 1e-12)


def test_equivalent_box_same_loss():
    target_dec = random_boxes(32, 27)
    pred_dec = perturb(target_dec, 28)
    alt = pred_dec[:, [0, 1, 3, 2, 4]].clone()
    alt[:, 4] += math.pi / 2
    d = deltas(32, 29)
    crit = KFLoss(reduction='none')
    torch.testing.assert_close(crit(d, d * 0, pred_decode=pred_dec, targets_decode=target_dec),
                               crit(d, d * 0, pred_decode=alt, targets_decode=target_dec),
                               rtol=1e-10, atol=1e-12)


def test_requires_decoded_boxes():
    with pytest.raises(ValueError, match='pred_decode'):
        KFLoss()(torch.rand(3, 5), torch.rand(3, 5))


def test_gradcheck_float64():
    target_dec = random_boxes(5, 30)
    pred_dec = perturb(target_dec, 31).requires_grad_(True)
    pred = deltas(5, 32).requires_grad_(True)
    target = deltas(5, 33)
    for fun in ('none', 'ln', 'exp'):
        crit = KFLoss(fun=fun, reduction='sum')
        assert torch.autograd.gradcheck(
            lambda p, pd: crit(p, target, pred_decode=pd, targets_decode=target_dec),
            (pred, pred_dec), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize('fun', ['none', 'ln', 'exp'])
def test_degenerate_batch_finite(fun):
    pred_dec, target_dec = degenerate_pairs()
    pred_dec.requires_grad_(True)
    d = torch.zeros(len(pred_dec), 5, requires_grad=True)
    loss = KFLoss(fun=fun)(d, torch.zeros_like(d), pred_decode=pred_dec, targets_decode=target_dec)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pred_dec.grad).all() and torch.isfinite(d.grad).all()


def test_fp16_and_empty_and_weights():
    target_dec = random_boxes(16, 34).float()
    pred_dec = perturb(target_dec.double(), 35).float()
    d = deltas(16, 36).float()
    crit = KFLoss(loss_weight=5.0)
    out = crit(d.half(), d.half() * 0, pred_decode=pred_dec.half(), targets_decode=target_dec.half())
    assert out.dtype == torch.float16
    ref = crit(d.half().float(), d.half().float() * 0, pred_decode=pred_dec.half().float(),
               targets_decode=target_dec.half().float())
    assert out.item() == pytest.approx(ref.item(), rel=2e-3)
    empty = crit(torch.zeros(0, 5), torch.zeros(0, 5), pred_decode=torch.zeros(0, 5),
                 targets_decode=torch.zeros(0, 5))
    assert empty.item() == 0.0
    per_box = KFLoss(reduction='none')(d, d * 0, pred_decode=pred_dec, targets_decode=target_dec)
    w = torch.rand(16)
    assert crit(d, d * 0, weight=w, avg_factor=3.0, pred_decode=pred_dec,
                targets_decode=target_dec).item() == pytest.approx(
        5.0 * (per_box * w).sum().item() / (3.0 + torch.finfo(torch.float32).eps), rel=1e-5)


def test_registry_alias():
    loss = MODELS.build(dict(type='KFLoss', fun='ln', loss_weight=5.0))
    assert isinstance(loss, KFLoss) and loss.fun == 'ln'
    # the former name is an alias of the same class, in the registry and in Python
    assert MODELS.get('KFIoULoss') is KFLoss
    assert KFLoss.box_input == 'both'


def test_beta_zero_is_l1_with_finite_gradients():
    """beta = 0: the centre term is |dx| + |dy| (torch's smooth_l1_loss convention), with finite gradients; the
    quadratic branch's 0/0 must not reach them through torch.where."""
    from visiondiv.models.losses.kf_iou_loss import smooth_l1
    diff = torch.tensor([-0.3, 0.0, 0.2, 2.0], dtype=torch.float64, requires_grad=True)
    out = smooth_l1(diff, 0.0)
    torch.testing.assert_close(out, diff.detach().abs(), rtol=0, atol=0)
    out.sum().backward()
    assert torch.isfinite(diff.grad).all()
    torch.testing.assert_close(diff.grad, torch.tensor([-1.0, 0.0, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(smooth_l1(diff.detach(), 0.0),
                               torch.nn.functional.smooth_l1_loss(diff.detach(), torch.zeros(4, dtype=torch.float64),
                                                                  beta=0.0, reduction='none'))
    pred, target = random_boxes(6, seed=3), random_boxes(6, seed=4)
    deltas = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    loss = KFLoss(beta=0.0)(deltas, torch.zeros(6, 5, dtype=torch.float64), pred_decode=pred,
                            targets_decode=target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(deltas.grad).all()


@pytest.mark.parametrize('beta', [-0.1, float('nan'), float('inf'), '0.1', True])
def test_bad_beta_is_refused(beta):
    with pytest.raises(ValueError, match=r'KFLoss: beta must be a finite number >= 0'):
        KFLoss(beta=beta)
