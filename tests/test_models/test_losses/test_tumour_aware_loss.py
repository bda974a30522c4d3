"""The tumour-aware term on hand-built masks: closed forms of the masked cycle L1 and the BCE + soft Dice."""
import math

import pytest
import torch

from visiondiv.models.losses import TumourAwareLoss, binary_seg_loss, masked_l1


def square_mask(size=8, lo=2, hi=5):
    m = torch.zeros(1, 1, size, size)
    m[..., lo:hi, lo:hi] = 1
    return m


def test_masked_l1_counts_tumour_pixels_only():
    mask = square_mask()                             # 9 tumour pixels
    real = torch.zeros(1, 1, 8, 8)
    rec = torch.full((1, 1, 8, 8), 5.0)              # error 5 outside the tumour is ignored
    rec[..., 2:5, 2:5] = 0.3
    rec[..., 2, 2] = -0.6                            # one tumour pixel with error 0.6
    assert masked_l1(rec, real, mask).item() == pytest.approx((8 * 0.3 + 0.6) / 9)
    assert masked_l1(rec, real, torch.zeros_like(mask)).item() == 0.0      # no tumour, no term


def test_binary_seg_loss_closed_form():
    """Logits +L on the tumour and -L elsewhere: BCE = log(1 + e^-L); soft Dice with p = sigmoid(L)."""
    mask = square_mask()
    L = 2.0
    logits = torch.where(mask > 0, torch.tensor(L), torch.tensor(-L))
    p = 1 / (1 + math.exp(-L))
    bce = math.log1p(math.exp(-L))
    n_fg, n_bg, eps = 9, 64 - 9, 1.0
    # soft Dice of the foreground: 2 * sum(p g) / (sum p + sum g), smoothed by eps
    dice = (2 * n_fg * p + eps) / (n_fg * p + n_bg * (1 - p) + n_fg + eps)
    assert binary_seg_loss(logits, mask).item() == pytest.approx(bce + 1 - dice, rel=1e-6)


def test_tumour_aware_loss_weights_each_term():
    mask = square_mask()
    logits = torch.zeros(1, 1, 8, 8)                 # p = 0.5 everywhere
    real, rec = torch.zeros(1, 1, 8, 8), torch.full((1, 1, 8, 8), 0.25)
    out = TumourAwareLoss(seg_weight=2.0, cycle_weight=4.0)(logits, mask, rec, real)
    dice = (2 * 9 * 0.5 + 1) / (64 * 0.5 + 9 + 1)
    assert out['loss_tumour_seg'].item() == pytest.approx(2.0 * (math.log(2) + 1 - dice), rel=1e-6)
    assert out['loss_tumour_cycle'].item() == pytest.approx(4.0 * 0.25)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_inputs_give_finite_fp32_losses_and_gradients(dtype):
    mask = square_mask()
    logits = torch.full((1, 1, 8, 8), -30.0, dtype=dtype, requires_grad=True)     # saturated sigmoid
    rec = torch.zeros(1, 1, 8, 8, dtype=dtype, requires_grad=True)
    out = TumourAwareLoss()(logits, mask, rec, torch.zeros(1, 1, 8, 8, dtype=dtype))
    total = sum(out.values())
    total.backward()
    assert total.dtype == torch.float32 and torch.isfinite(total)
    assert torch.isfinite(logits.grad).all() and torch.isfinite(rec.grad).all()


def test_negative_weight_is_refused():
    with pytest.raises(ValueError, match='seg_weight must be >= 0'):
        TumourAwareLoss(seg_weight=-1)



def test_tumour_neighbourhood_is_the_chessboard_dilation():
    from visiondiv.models.losses.tumour_aware_loss import tumour_neighbourhood
    roi = tumour_neighbourhood(square_mask(), 1)     # rows/cols 2..4 grown by 1 -> 1..5
    expected = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    expected[..., 1:6, 1:6] = True
    assert torch.equal(roi, expected)
    assert not tumour_neighbourhood(torch.zeros(1, 1, 8, 8), 3).any()


def test_roi_margin_scores_only_the_tumour_neighbourhood():
    """A false positive far from the tumour costs nothing with roi_margin; the ROI's closed form is exact."""
    mask = square_mask()                             # tumour rows/cols 2..4; ROI with margin 1: 1..5 (25 px)
    L = 2.0
    logits = torch.where(mask > 0, torch.tensor(L), torch.tensor(-L))
    logits[..., 7, 7] = 3.0                          # a confident false positive outside the ROI
    p, bce_in, eps = 1 / (1 + math.exp(-L)), math.log1p(math.exp(-L)), 1.0
    n_fg, n_bg = 9, 25 - 9                           # scored pixels: the 25 of the ROI
    dice = (2 * n_fg * p + eps) / (n_fg * p + n_bg * (1 - p) + n_fg + eps)
    out = TumourAwareLoss(seg_weight=1.0, cycle_weight=0.0, roi_margin=1)(logits, mask, mask, mask)
    assert out['loss_tumour_seg'].item() == pytest.approx(bce_in + 1 - dice, rel=1e-6)
    # without the ROI the far false positive raises the loss
    full = TumourAwareLoss(seg_weight=1.0, cycle_weight=0.0)(logits, mask, mask, mask)['loss_tumour_seg']
    assert full.item() > out['loss_tumour_seg'].item() + 0.01


def test_roi_margin_on_slices_without_tumour_scores_nothing():
    logits = torch.full((2, 1, 8, 8), 5.0, requires_grad=True)       # tumour everywhere, none in the masks
    out = TumourAwareLoss(cycle_weight=0.0, roi_margin=2)(logits, torch.zeros(2, 1, 8, 8),
                                                          torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8))
    out['loss_tumour_seg'].backward()
    # nothing scored: BCE 0, and the empty Dice (eps / eps) is 1
    assert out['loss_tumour_seg'].item() == 0.0 and torch.all(logits.grad == 0)


@pytest.mark.parametrize('margin', [-1, 1.5, True, '2'])
def test_bad_roi_margin_is_refused(margin):
    with pytest.raises(ValueError, match='roi_margin must be None or an int >= 0'):
        TumourAwareLoss(roi_margin=margin)
