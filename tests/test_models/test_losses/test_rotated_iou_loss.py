"""RotatedIoULoss (mmrotate's, on visiondiv's differentiable rotated IoU): modes, reduction and weights against
closed forms; half precision; the registry and the declared box input."""
import math

import pytest
import torch

from visiondiv.models.losses import RotatedIoULoss, declared_box_input
from visiondiv.registry import MODELS

# pairs with a closed-form IoU: identical, a square and its 45-degree turn (1/sqrt2),
# [0, 4] x [0, 2] against [1, 5] x [1, 4] (3/17), [0, 2] x [0, 1] against [1, 3] x [0, 1] (1/3)
PRED = [[10.0, 20.0, 30.0, 12.0, 0.7], [5.0, 7.0, 4.0, 4.0, 0.0], [2.0, 1.0, 4.0, 2.0, 0.0], [1.0, 0.5, 2.0, 1.0, 0.0]]
TARGET = [[10.0, 20.0, 30.0, 12.0, 0.7], [5.0, 7.0, 4.0, 4.0, math.pi / 4], [3.0, 2.5, 4.0, 3.0, 0.0],
          [2.0, 0.5, 2.0, 1.0, 0.0]]
IOU = torch.tensor([1.0, 1 / math.sqrt(2), 3 / 17, 1 / 3], dtype=torch.float64)
CLOSED = {'linear': 1 - IOU, 'log': -IOU.log(), 'square': 1 - IOU ** 2}


def boxes(dtype=torch.float64):
    return torch.tensor(PRED, dtype=dtype), torch.tensor(TARGET, dtype=dtype)


@pytest.mark.parametrize('mode', sorted(CLOSED))
def test_modes_equal_closed_forms(mode):
    pred, target = boxes()
    loss = RotatedIoULoss(mode=mode, reduction='none')(pred, target)
    torch.testing.assert_close(loss, CLOSED[mode], rtol=0, atol=1e-12)
    # mean, sum and loss_weight
    torch.testing.assert_close(RotatedIoULoss(mode=mode)(pred, target), CLOSED[mode].mean(), rtol=0, atol=1e-12)
    torch.testing.assert_close(RotatedIoULoss(mode=mode, loss_weight=2.5)(pred, target, reduction_override='sum'),
                               2.5 * CLOSED[mode].sum(), rtol=0, atol=1e-12)


def test_default_mode_is_log_as_in_mmrotate():
    pred, target = boxes()
    torch.testing.assert_close(RotatedIoULoss(reduction='none')(pred, target), CLOSED['log'], rtol=0, atol=1e-12)


def test_eps_clamps_disjoint_boxes():
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.3]], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([[10.0, 10.0, 2.0, 2.0, 0.3]], dtype=torch.float64)
    loss = RotatedIoULoss(eps=1e-4, reduction='none')(pred, target)
    torch.testing.assert_close(loss, torch.tensor([-math.log(1e-4)], dtype=torch.float64))
    loss.sum().backward()
    assert torch.isfinite(pred.grad).all()
    torch.testing.assert_close(RotatedIoULoss(mode='linear', eps=1e-4, reduction='none')(pred, target).detach(),
                               torch.tensor([1 - 1e-4], dtype=torch.float64))


def test_weight_and_avg_factor():
    pred, target = boxes()
    w = torch.tensor([0.5, 1.0, 2.0, 0.0], dtype=torch.float64)
    # mmdet's weight_reduce_loss divides by avg_factor + fp32 eps
    expected = (CLOSED['log'] * w).sum() / (3.0 + torch.finfo(torch.float32).eps)
    torch.testing.assert_close(RotatedIoULoss()(pred, target, weight=w, avg_factor=3.0), expected, rtol=0, atol=1e-12)
    # mmrotate's per-coordinate weights (n, 5) count by their mean
    w5 = w[:, None].expand(4, 5)
    torch.testing.assert_close(RotatedIoULoss()(pred, target, weight=w5, avg_factor=3.0), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match='weight shape'):
        RotatedIoULoss()(pred, target, weight=torch.ones(4, 3))


def test_zero_weights_and_empty_input_give_a_zero_that_keeps_the_graph():
    pred, target = boxes()
    pred.requires_grad_()
    zero = RotatedIoULoss()(pred, target, weight=torch.zeros(4, dtype=torch.float64))
    assert zero.item() == 0 and zero.requires_grad
    empty = torch.zeros(0, 5, requires_grad=True)
    assert RotatedIoULoss()(empty, torch.zeros(0, 5)).item() == 0
    assert RotatedIoULoss(reduction='none')(empty, torch.zeros(0, 5)).shape == (0,)


def test_degenerate_target_gets_zero_loss():
    pred, target = boxes()
    target[2, 2] = 0.0                                # a zero-width target has no IoU to learn
    loss = RotatedIoULoss(reduction='none')(pred, target)
    expected = CLOSED['log'].clone()
    expected[2] = 0.0
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('mode', sorted(CLOSED))
def test_gradient_step_raises_iou(mode):
    pred, target = boxes()
    pred = pred[1:].clone().requires_grad_()
    loss_fn = RotatedIoULoss(mode=mode)
    loss = loss_fn(pred, target[1:])
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    with torch.no_grad():
        after = loss_fn(pred - 0.01 * pred.grad, target[1:])
    assert after < loss


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_inputs_compute_in_fp32(dtype):
    pred, target = boxes(dtype)
    pred.requires_grad_()
    loss = RotatedIoULoss(reduction='none')(pred, target)
    assert loss.dtype == dtype and torch.isfinite(loss).all()
    # the same boxes in fp32: only the inputs' and the result's rounding differ
    expected = RotatedIoULoss(reduction='none')(pred.detach().float(), target.float())
    torch.testing.assert_close(loss.float(), expected, rtol=1e-2, atol=1e-3)
    loss.sum().backward()
    assert pred.grad.dtype == dtype and torch.isfinite(pred.grad).all()


def test_autocast_keeps_fp32():
    pred, target = boxes(torch.float32)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = RotatedIoULoss(reduction='none')(pred, target)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.double(), CLOSED['log'], rtol=0, atol=1e-6)


def test_linear_flag_is_the_deprecated_linear_mode():
    pred, target = boxes()
    with pytest.warns(DeprecationWarning, match='mode="linear"'):
        loss_fn = RotatedIoULoss(linear=True)
    assert loss_fn.mode == 'linear'
    torch.testing.assert_close(loss_fn(pred, target, reduction_override='none'), CLOSED['linear'], rtol=0, atol=1e-12)


def test_bad_arguments_name_the_field():
    with pytest.raises(ValueError, match='mode must be one of'):
        RotatedIoULoss(mode='giou')
    with pytest.raises(ValueError, match='reduction must be one of'):
        RotatedIoULoss(reduction='avg')


def test_registered_and_declares_decoded_boxes():
    loss = MODELS.build(dict(type='RotatedIoULoss', loss_weight=1.0))
    assert isinstance(loss, RotatedIoULoss) and declared_box_input(loss) == 'decoded'
