import math

import numpy as np
import pytest
import torch

from visiondiv.models.losses import GDLoss
from visiondiv.registry import MODELS

from .reference import gd_loss


def random_boxes(n, seed, scale=50.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 200
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * scale + 2
    t = (torch.rand(n, 1, generator=g, dtype=torch.float64) - 0.5) * 2 * math.pi
    return torch.cat([xy, wh, t], 1)


def perturb(boxes, seed):
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(boxes.shape, generator=g, dtype=torch.float64)
    out = boxes.clone()
    out[:, :2] += noise[:, :2] * 3
    out[:, 2:4] *= torch.exp(noise[:, 2:4] * 0.2)
    out[:, 4] += noise[:, 4] * 0.3
    return out


LOSS_TYPES = ['kld', 'kld_reverse', 'jd', 'kld_symmax', 'kld_symmin', 'gwd', 'bcd']
SETTINGS = [dict(fun='log1p', tau=1.0, sqrt=False), dict(fun='log1p', tau=0.0, sqrt=True),
            dict(fun='sqrt', tau=2.0, sqrt=True), dict(fun='none', tau=0.0, sqrt=False)]


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
@pytest.mark.parametrize('setting', SETTINGS)
def test_matches_float64_reference(loss_type, setting):
    target = random_boxes(64, 0)
    pred = perturb(target, 1)
    alpha = 1.5 if loss_type != 'bcd' else 1.0
    loss = GDLoss(loss_type=loss_type, alpha=alpha, reduction='none', **setting)(pred, target)
    sqrt = setting['sqrt'] and loss_type != 'gwd'
    expected = np.array([gd_loss(p.numpy(), t.numpy(), loss_type, setting['fun'], setting['tau'],
                                 alpha, sqrt) for p, t in zip(pred, target)])
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
def test_float32_close_to_float64(loss_type):
    target = random_boxes(256, 2)
    pred = perturb(target, 3)
    crit = GDLoss(loss_type=loss_type, fun='log1p', tau=1.0, reduction='none')
    np.testing.assert_allclose(crit(pred.float(), target.float()).double().numpy(),
                               crit(pred, target).numpy(), rtol=2e-4, atol=2e-6)


def test_identical_boxes_give_zero_kld():
    boxes = random_boxes(32, 4)
    for loss_type in ('kld', 'kld_reverse', 'jd', 'bcd'):
        d = GDLoss(loss_type=loss_type, fun='none', sqrt=False, reduction='none')(boxes, boxes)
        assert torch.all(d.abs() < 1e-12), loss_type


def test_known_value_pure_translation():
    # Same box shifted along its own w axis by dx: KL = 1/2 * dx^2 / (w^2/4) = 2 dx^2 / w^2.
    w, h, dx = 10.0, 4.0, 3.0
    t = 0.7
    target = torch.tensor([[0.0, 0.0, w, h, t]], dtype=torch.float64)
    pred = torch.tensor([[dx * math.cos(t), dx * math.sin(t), w, h, t]], dtype=torch.float64)
    d = GDLoss(fun='none', sqrt=False, reduction='none')(pred, target)
    assert d.item() == pytest.approx(2 * dx * dx / (w * w), rel=1e-12)


def test_known_value_pure_scale():
    # Co-centred, axis-aligned, target k times larger in w: KL(t||p) = 1/2 (k^2 - 1 - 2 ln k).
    k = 3.0
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0]], dtype=torch.float64)
    target = torch.tensor([[0.0, 0.0, 2.0 * k, 2.0, 0.0]], dtype=torch.float64)
    d = GDLoss(fun='none', sqrt=False, reduction='none')(pred, target)
    assert d.item() == pytest.approx(0.5 * (k * k - 1 - 2 * math.log(k)), rel=1e-12)


def test_equivalent_box_gives_same_loss():
    target = random_boxes(64, 5)
    pred = perturb(target, 6)
    swapped = pred[:, [0, 1, 3, 2, 4]].clone()
    swapped[:, 4] += math.pi / 2
    shifted = pred.clone()
    shifted[:, 4] += math.pi   # period boundary
    for loss_type in LOSS_TYPES:
        crit = GDLoss(loss_type=loss_type, reduction='none')
        base = crit(pred, target)
        torch.testing.assert_close(crit(swapped, target), base, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(crit(shifted, target), base, rtol=1e-10, atol=1e-12)


def test_reduction_weight_avg_factor():
    target = random_boxes(10, 7)
    pred = perturb(target, 8)
    crit = GDLoss(fun='log1p', tau=1.0, sqrt=False, loss_weight=5.5)
    per_box = GDLoss(fun='log1p', tau=1.0, sqrt=False, reduction='none')(pred, target)
    weight = torch.linspace(0, 1, 10, dtype=torch.float64)
    assert crit(pred, target).item() == pytest.approx(5.5 * per_box.mean().item(), rel=1e-12)
    assert crit(pred, target, weight=weight, avg_factor=4.0).item() == pytest.approx(
        5.5 * (per_box * weight).sum().item() / (4.0 + torch.finfo(torch.float32).eps), rel=1e-9)
    assert crit(pred, target, reduction_override='sum').item() == pytest.approx(
        5.5 * per_box.sum().item(), rel=1e-12)
    # per-coordinate weights (n, 5) are averaged per box, as in mmrotate
    w5 = weight[:, None].expand(-1, 5)
    assert crit(pred, target, weight=w5, reduction_override='sum').item() == pytest.approx(
        5.5 * (per_box * weight).sum().item(), rel=1e-12)


def test_empty_and_zero_weight():
    crit = GDLoss()
    pred = torch.zeros(0, 5, requires_grad=True)
    loss = crit(pred, torch.zeros(0, 5))
    assert loss.item() == 0.0
    loss.backward()
    assert crit(pred, torch.zeros(0, 5), reduction_override='none').shape == (0,)
    p = torch.rand(3, 5, requires_grad=True)
    zero = crit(p, torch.rand(3, 5), weight=torch.zeros(3))
    assert zero.item() == 0.0 and zero.requires_grad


def test_gradcheck_float64():
    target = random_boxes(6, 9)
    pred = perturb(target, 10).requires_grad_(True)
    for loss_type in LOSS_TYPES:
        crit = GDLoss(loss_type=loss_type, fun='log1p', tau=1.0, reduction='sum')
        assert torch.autograd.gradcheck(lambda p: crit(p, target), (pred,), eps=1e-6, atol=1e-5)


def degenerate_pairs():
    pred = torch.tensor([
        [10, 10, 0, 0, 0],            # zero size
        [10, 10, 1e9, 1e9, 0.3],      # huge (beyond the clamp)
        [10, 10, 1e4, 1e-3, 0.1],     # extreme aspect ratio
        [10, 10, 20, 5, math.pi / 2],  # period boundary
        [10, 10, 20, 5, -math.pi / 2],
        [10, 10, 20, 20, 0.0],        # square (isotropic)
        [1e5, -1e5, 3, 4, 1.0],       # far away
        [10, 10, -5, 3, 0.2],         # negative side
    ], dtype=torch.float32)
    target = torch.tensor([
        [12, 9, 30, 10, 0.2],
        [10, 10, 1e-3, 1e4, -0.4],
        [10, 10, 1e-3, 1e4, 1.2],
        [10, 10, 5, 20, 0.0],
        [10, 10, 20, 5, math.pi / 2],
        [10, 10, 20, 20, 0.5],
        [0, 0, 1e-5, 1e-5, 0.0],
        [10, 10, 4, 3, 0.2],
    ], dtype=torch.float32)
    return pred, target


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
@pytest.mark.parametrize('fun', ['log1p', 'none', 'sqrt'])
def test_degenerate_batch_finite(loss_type, fun):
    pred, target = degenerate_pairs()
    pred.requires_grad_(True)
    loss = GDLoss(loss_type=loss_type, fun=fun, tau=1.0 if fun != 'none' else 0.0)(pred, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pred.grad).all()


def test_zero_size_target_is_masked():
    pred = torch.tensor([[0, 0, 10, 5, 0.1], [0, 0, 10, 5, 0.1]], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 8, 5, 0]], dtype=torch.float64)
    loss = GDLoss(fun='log1p', tau=1.0, sqrt=False, reduction='none')(pred, target)
    assert loss[0].item() == 0.0
    assert loss[1].item() == pytest.approx(gd_loss(pred[1].detach().numpy(), target[1].numpy(), 'kld',
                                                   'log1p', 1.0, 1.0, False), rel=1e-12)
    loss.sum().backward()
    assert torch.all(pred.grad[0] == 0) and torch.isfinite(pred.grad).all()


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
def test_fp16_input(loss_type):
    target = random_boxes(32, 11).float()
    pred = perturb(target.double(), 12).float()
    crit = GDLoss(loss_type=loss_type, fun='log1p', tau=1.0, reduction='none')
    p16 = pred.half().requires_grad_(True)
    out = crit(p16, target.half())
    assert out.dtype == torch.float16
    out.sum().backward()
    assert torch.isfinite(p16.grad.float()).all()
    ref = crit(p16.detach().float(), target.half().float())
    torch.testing.assert_close(out.float(), ref, rtol=2e-3, atol=1e-3)
    # fun='none' can exceed the fp16 range; it saturates instead of becoming inf
    big = GDLoss(loss_type=loss_type, fun='none', reduction='none')(
        torch.tensor([[0, 0, 1, 1, 0]], dtype=torch.float16),
        torch.tensor([[6e4, 6e4, 6e4, 1, 0]], dtype=torch.float16))
    assert torch.isfinite(big).all()


def test_registry_names_and_mmrotate_config():
    cfg = dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False, loss_weight=5.5)
    loss = MODELS.build(cfg)
    assert isinstance(loss, GDLoss) and loss.loss_weight == 5.5
    # the former name is an alias of the same class, in the registry and in Python
    assert isinstance(MODELS.build(dict(type='KLDLoss')), GDLoss)
    assert MODELS.get('KLDLoss') is GDLoss
    assert GDLoss.box_input == 'decoded'
    with pytest.raises(ValueError, match='loss_type'):
        GDLoss(loss_type='kl')


def test_xy_stddev_pearson_representation():
    # (x, y, sx, sy, rho=0) is the axis-aligned box with w = 2 sx, h = 2 sy
    params = torch.tensor([[1.0, 2.0, 3.0, 1.5, 0.0]], dtype=torch.float64)
    box = torch.tensor([[1.0, 2.0, 6.0, 3.0, 0.0]], dtype=torch.float64)
    target = torch.tensor([[2.0, 2.5, 4.0, 2.0, 0.0]], dtype=torch.float64)
    t_params = torch.tensor([[2.0, 2.5, 2.0, 1.0, 0.0]], dtype=torch.float64)
    a = GDLoss(representation='xy_stddev_pearson', reduction='none')(params, t_params)
    b = GDLoss(reduction='none')(box, target)
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
