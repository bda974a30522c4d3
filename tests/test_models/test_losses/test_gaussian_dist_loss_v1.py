"""GDLoss_v1 (mmrotate's gaussian_dist_loss_v1) against closed-form float64 references written here."""
import math

import numpy as np
import pytest
import torch

from visiondiv.models.losses import GDLoss_v1, box_loss_input, declared_box_input
from visiondiv.registry import MODELS


def gaussian(box):
    x, y, w, h, t = [float(v) for v in box]
    w, h = np.clip([w, h], 1e-7, 1e7)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return np.array([x, y]), rot @ np.diag([w * w / 4, h * h / 4]) @ rot.T


def sqrtm(s):
    vals, vecs = np.linalg.eigh(s)
    return vecs @ np.diag(np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def distance(pred, target, loss_type):
    """2 KL(N_p || N_t), squared 2-Wasserstein or Bhattacharyya distance, with explicit 2x2 matrices."""
    mp, sp = gaussian(pred)
    mt, st = gaussian(target)
    d = mp - mt
    if loss_type == 'kld':
        inv_t = np.linalg.inv(st)
        return np.trace(inv_t @ sp) + d @ inv_t @ d - 2 + np.log(np.linalg.det(st) / np.linalg.det(sp))
    if loss_type == 'gwd':
        root_t = sqrtm(st)
        return d @ d + np.trace(sp) + np.trace(st) - 2 * np.trace(sqrtm(root_t @ sp @ root_t))
    s = (sp + st) / 2
    return d @ np.linalg.inv(s) @ d / 8 + 0.5 * np.log(np.linalg.det(s) / math.sqrt(np.linalg.det(sp) *
                                                                                  np.linalg.det(st)))


def reference(pred, target, loss_type, fun, tau):
    """mmrotate's GDLoss_v1 for one pair: clamp at 1e-6, then fun/tau (with its per-type fallbacks)."""
    dist = max(distance(pred, target, loss_type), 1e-6)
    if fun == 'sqrt':
        return 1 - 1 / (tau + math.sqrt(dist))
    if fun == 'log1p' or loss_type == 'kld':
        return 1 - 1 / (tau + math.log1p(dist))
    if loss_type == 'bcd':
        return 1 - 1 / (tau + dist)
    _, sp = gaussian(pred)
    _, st = gaussian(target)
    return math.log1p(math.sqrt(dist) / (2 * max((np.linalg.det(sp) * np.linalg.det(st)) ** 0.125, 1e-7)))


def random_boxes(n, seed):
    g = np.random.default_rng(seed)
    return torch.from_numpy(np.c_[g.uniform(0, 200, (n, 2)), g.uniform(2, 50, (n, 2)), g.uniform(-3, 3, n)])


def perturb(boxes, seed):
    g = np.random.default_rng(seed)
    out = boxes.clone()
    out[:, :2] += torch.from_numpy(g.normal(0, 3, (len(boxes), 2)))
    out[:, 2:4] *= torch.from_numpy(np.exp(g.normal(0, 0.2, (len(boxes), 2))))
    out[:, 4] += torch.from_numpy(g.normal(0, 0.3, len(boxes)))
    return out


LOSS_TYPES = ['kld', 'gwd', 'bcd']


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
@pytest.mark.parametrize('fun', ['sqrt', 'log1p', '', 'none'])
@pytest.mark.parametrize('tau', [1.0, 2.0, 0.5])
def test_matches_float64_reference(loss_type, fun, tau):
    target = random_boxes(48, 0)
    pred = perturb(target, 1)
    loss = GDLoss_v1(loss_type, fun=fun, tau=tau, reduction='none', loss_weight=1.5)(pred, target)
    ref_fun = '' if fun == 'none' else fun
    expected = 1.5 * np.array([reference(p, t, loss_type, ref_fun, tau) for p, t in zip(pred, target)])
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
def test_samples_with_weight_at_most_zero_are_dropped(loss_type):
    target = random_boxes(10, 2)
    pred = perturb(target, 3)
    # dropped rows may hold anything: they are removed before any Gaussian is formed
    pred[[1, 4], 2] = float('nan')
    pred[6, :2] = float('inf')
    weight = torch.tensor([1.0, 0.0, 2.5, 0.3, -1.0, 1.0, 0.0, 4.0, 1.0, 1.0], dtype=torch.float64)
    keep = weight > 0
    per = np.array([reference(p, t, loss_type, 'log1p', 1.0) for p, t in zip(pred[keep], target[keep])])
    crit = GDLoss_v1(loss_type, fun='log1p', loss_weight=2.0)
    pred.requires_grad_(True)
    # as mmrotate (whose unreduced output mmengine averages): the weight only masks, avg_factor is unused
    mean = crit(pred, target, weight, avg_factor=123.0)
    assert mean.item() == pytest.approx(2.0 * per.mean(), rel=1e-9)
    mean.backward()
    assert torch.isfinite(pred.grad).all() and (pred.grad[~keep] == 0).all()
    assert crit(pred, target, weight, reduction_override='sum').item() == pytest.approx(2.0 * per.sum(), rel=1e-9)
    none = crit(pred, target, weight, reduction_override='none').detach()
    expected = np.zeros(10)
    expected[keep.numpy()] = 2.0 * per
    np.testing.assert_allclose(none.numpy(), expected, rtol=1e-9, atol=0)
    # per-coordinate weights (n, 5) are reduced to their mean first, as in mmrotate
    weight5 = weight[:, None].expand(10, 5).clone()
    assert crit(pred, target, weight5).item() == pytest.approx(2.0 * per.mean(), rel=1e-9)


def test_no_positive_weight_or_no_sample_gives_a_zero_with_graph():
    crit = GDLoss_v1('kld')
    pred = random_boxes(4, 5).requires_grad_(True)
    zero = crit(pred, random_boxes(4, 6), torch.zeros(4))
    assert zero.item() == 0 and zero.requires_grad
    empty = torch.zeros(0, 5, requires_grad=True)
    assert crit(empty, torch.zeros(0, 5)).item() == 0
    assert crit(empty, torch.zeros(0, 5), reduction_override='none').shape == (0,)


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
@pytest.mark.parametrize('fun', ['sqrt', 'log1p', ''])
def test_degenerate_boxes_have_finite_gradients(loss_type, fun):
    target = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.3], [10.0, 10.0, 0.0, 4.0, 0.3], [5.0, 5.0, 0.0, 0.0, 0.0],
                           [20.0, 20.0, 6.0, 6.0, 0.0]], dtype=torch.float64)
    pred = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.3], [10.0, 11.0, 3.0, 4.0, 0.3], [5.0, 5.0, 0.0, 0.0, 0.0],
                         [20.0, 20.0, 0.0, 6.0, 1.0]], dtype=torch.float64, requires_grad=True)
    crit = GDLoss_v1(loss_type, fun=fun, reduction='none')
    loss = crit(pred, target)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(pred.grad).all()
    # identical boxes: D = 0 is clamped to 1e-6 (rows 0 and 2, a zero-size box with itself)
    for i in (0, 2):
        assert loss[i].item() == pytest.approx(reference(pred[i].detach(), target[i], loss_type, fun, 1.0),
                                               rel=1e-6, abs=1e-12)
    assert loss[0].item() == pytest.approx(
        {'sqrt': 1 - 1 / (1 + 1e-3), 'log1p': 1 - 1 / (1 + math.log1p(1e-6))}.get(
            fun, reference(pred[0].detach(), target[0], loss_type, fun, 1.0)), rel=1e-9)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss_type', LOSS_TYPES)
def test_half_precision_is_computed_in_fp32(dtype, loss_type):
    target = random_boxes(32, 7)
    pred = perturb(target, 8)
    pred[0, 2] = 0.0                                    # a degenerate box among them
    p16, t16 = pred.to(dtype).requires_grad_(True), target.to(dtype)
    crit = GDLoss_v1(loss_type, fun='log1p')
    loss = crit(p16, t16)
    assert loss.dtype == dtype
    loss.backward()
    assert p16.grad.dtype == dtype and torch.isfinite(p16.grad.float()).all()
    # the same numbers as float32 on the rounded inputs
    expected = crit(p16.detach().float(), t16.float())
    assert loss.float().item() == pytest.approx(expected.to(dtype).float().item(), rel=0, abs=0)
    ref = np.mean([reference(p, t, loss_type, 'log1p', 1.0) for p, t in zip(p16.detach().double(), t16.double())])
    assert loss.float().item() == pytest.approx(ref, rel=1e-2)


def test_config_and_declared_input():
    crit = MODELS.build(dict(type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1, loss_weight=1.0))
    assert isinstance(crit, GDLoss_v1) and declared_box_input(crit) == 'decoded'
    # mmrotate's v1 configs set reg_decoded_bbox=True: consistent with the declaration
    assert box_loss_input(crit, True) == 'decoded'
    with pytest.raises(ValueError, match='loss_type'):
        GDLoss_v1('jd')
    with pytest.raises(ValueError, match='fun'):
        GDLoss_v1('kld', fun='exp')
    with pytest.raises(ValueError, match='reduction'):
        GDLoss_v1('kld', reduction='max')
