"""The box-loss template: what its forward does around a subclass's maths, on a loss written here."""
from typing import Optional

import pytest
import torch
from torch import Tensor

from visiondiv.models.losses import BaseBoxLoss


class L1Loss(BaseBoxLoss):
    """Sum of absolute differences, recording the dtype and rows its maths saw."""

    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        self.seen = (pred.dtype, target.clone(), None if targets_decode is None else targets_decode.clone())
        return (pred - target).abs().sum(-1)


class BothLoss(L1Loss):
    box_input = 'both'
    degenerate_target = 'targets_decode'


class MaskLoss(L1Loss):
    degenerate_target = None
    weight_as_mask = True


PRED = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.1], [0.0, 0.0, 2.0, 2.0, 0.0], [5.0, 5.0, 1.0, 1.0, 0.3]])
TARGET = torch.tensor([[1.5, 2.0, 3.0, 3.0, 0.1], [0.0, 0.0, 0.0, 2.0, 0.0], [5.0, 4.0, 1.0, 2.0, 0.0]])
#: per-box L1 of the rows; row 1's target has a zero side (degenerate)
L1 = torch.tensor([1.5, 2.0, 2.3])


def test_reduction_weight_and_avg_factor():
    loss = L1Loss()
    w = torch.tensor([1.0, 1.0, 0.5])
    # row 1 is degenerate: zero loss, whatever its weight
    assert loss(PRED, TARGET).item() == pytest.approx((1.5 + 2.3) / 3)
    assert loss(PRED, TARGET, weight=w, reduction_override='sum').item() == pytest.approx(1.5 + 0.5 * 2.3)
    assert loss(PRED, TARGET, weight=w, avg_factor=2.0).item() == pytest.approx((1.5 + 0.5 * 2.3) / 2)
    per_coordinate = w[:, None].expand(3, 5)
    assert loss(PRED, TARGET, weight=per_coordinate, reduction_override='sum').item() == pytest.approx(2.65)
    torch.testing.assert_close(L1Loss(reduction='none', loss_weight=2.0)(PRED, TARGET),
                               2 * torch.tensor([1.5, 0.0, 2.3]))
    # the degenerate target reached the maths as a unit box, so it could not make NaN
    assert torch.equal(loss.seen[1][1], torch.tensor([0.0, 0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match='reduction must be one of'):
        L1Loss(reduction='avg')


def test_empty_input_and_zero_weights_keep_the_graph():
    pred = torch.zeros(0, 5, requires_grad=True)
    out = L1Loss()(pred, torch.zeros(0, 5))
    out.backward()
    assert out.item() == 0 and pred.grad.shape == (0, 5)
    pred = PRED.clone().requires_grad_()
    out = L1Loss()(pred, TARGET, weight=torch.zeros(3))
    out.backward()
    assert out.item() == 0 and torch.equal(pred.grad, torch.zeros(3, 5))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_fp32_and_returned_in_the_input_dtype(dtype):
    loss = L1Loss()
    out = loss(PRED.to(dtype), TARGET.to(dtype))
    assert loss.seen[0] is torch.float32 and out.dtype is dtype
    assert out.float().item() == pytest.approx((1.5 + 2.3) / 3, rel=1e-2)


def test_both_inputs_are_required_and_masked_together():
    loss = BothLoss(reduction='none')
    with pytest.raises(ValueError, match='BothLoss needs pred_decode and targets_decode'):
        loss(PRED, TARGET)
    decoded = TARGET.clone()
    decoded[2, 3] = float('nan')                 # row 2's decoded target is not finite: the row is masked
    out = loss(PRED, TARGET, pred_decode=PRED, targets_decode=decoded)
    torch.testing.assert_close(out, torch.tensor([1.5, 0.0, 0.0]))
    unit = torch.tensor([0.0, 0.0, 1.0, 1.0, 0.0])
    assert torch.equal(loss.seen[1][2], unit) and torch.equal(loss.seen[2][2], unit)   # deltas cleaned too


def test_weight_as_mask_drops_samples_and_ignores_weight_values():
    loss = MaskLoss()
    w = torch.tensor([2.0, 0.0, 0.5])
    # rows 0 and 2 kept, their weights' values unused, mean over the kept rows, avg_factor ignored
    assert loss(PRED, TARGET, weight=w, avg_factor=10.0).item() == pytest.approx((1.5 + 2.3) / 2)
    assert loss.seen[1].shape == (2, 5)
    torch.testing.assert_close(MaskLoss(reduction='none')(PRED, TARGET, weight=w), torch.tensor([1.5, 0.0, 2.3]))
    # without a weight nothing is dropped, and nothing is masked as degenerate
    assert loss(PRED, TARGET).item() == pytest.approx(L1.mean().item())


class MaskedAndDegenerateLoss(L1Loss):
    """Both options at once: samples dropped by weight, then degenerate targets among the kept ones."""
    weight_as_mask = True


def test_weight_as_mask_with_degenerate_targets_keeps_every_row_in_none_reduction():
    w = torch.tensor([1.0, 1.0, 0.0])
    out = MaskedAndDegenerateLoss(reduction='none')(PRED, TARGET, weight=w)
    torch.testing.assert_close(out, torch.tensor([1.5, 0.0, 0.0]))          # row 1 degenerate, row 2 dropped
    assert MaskedAndDegenerateLoss()(PRED, TARGET, weight=w).item() == pytest.approx(1.5 / 2)
