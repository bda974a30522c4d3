"""GANLoss against closed forms for every gan_type."""
import math

import pytest
import torch

from visiondiv.models.losses import GANLoss

X = torch.tensor([[-2.0, 0.5], [1.0, 3.0]], dtype=torch.float64)


def test_lsgan_closed_form():
    loss = GANLoss('lsgan', loss_weight=2.0)
    xs = [-2.0, 0.5, 1.0, 3.0]
    assert loss(X, True, is_disc=True).item() == pytest.approx(sum((x - 1) ** 2 for x in xs) / 4)
    assert loss(X, False, is_disc=True).item() == pytest.approx(sum(x ** 2 for x in xs) / 4)
    # the weight applies to the generator's loss only (mmagic)
    assert loss(X, True).item() == pytest.approx(2 * sum((x - 1) ** 2 for x in xs) / 4)


def test_vanilla_closed_form():
    xs = [-2.0, 0.5, 1.0, 3.0]
    real = sum(math.log1p(math.exp(-x)) for x in xs) / 4       # -log sigmoid(x)
    fake = sum(math.log1p(math.exp(x)) for x in xs) / 4        # -log(1 - sigmoid(x))
    loss = GANLoss('vanilla')
    assert loss(X, True, is_disc=True).item() == pytest.approx(real)
    assert loss(X, False, is_disc=True).item() == pytest.approx(fake)


def test_hinge_and_wgan_closed_form():
    xs = [-2.0, 0.5, 1.0, 3.0]
    hinge = GANLoss('hinge')
    assert hinge(X, True, is_disc=True).item() == pytest.approx(sum(max(0, 1 - x) for x in xs) / 4)
    assert hinge(X, False, is_disc=True).item() == pytest.approx(sum(max(0, 1 + x) for x in xs) / 4)
    assert hinge(X, True).item() == pytest.approx(-sum(xs) / 4)
    wgan = GANLoss('wgan')
    assert wgan(X, True, is_disc=True).item() == pytest.approx(-sum(xs) / 4)
    assert wgan(X, False, is_disc=True).item() == pytest.approx(sum(xs) / 4)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_logits_are_computed_in_fp32(dtype):
    big = torch.full((4,), 300.0, dtype=dtype)       # 300^2 overflows fp16
    out = GANLoss('lsgan')(big, False, is_disc=True)
    assert out.dtype == torch.float32 and out.item() == pytest.approx(300.0 ** 2, rel=1e-2)


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match='gan_type must be one of'):
        GANLoss('wasserstein')
