import math

import pytest
import torch

from visiondiv.divergences import categorical_kl
from visiondiv.models.losses import (ClassRatioBoundLoss, ClassRatioKLLoss, EntropyLoss, predicted_class_ratio,
                                     validate_bounds, validate_prior)
from visiondiv.registry import MODELS

# two images, 2 classes, 2 x 2 pixels; per-pixel foreground probabilities
FG = [[0.9, 0.5, 0.2, 0.6], [0.1, 0.1, 0.3, 0.5]]


def logits():
    p = torch.tensor(FG, dtype=torch.float64).reshape(2, 1, 2, 2)
    probs = torch.cat([1 - p, p], 1)
    return probs.log()        # softmax(log p) = p


def h(q):
    return -sum(v * math.log(v) for v in q if v > 0)


def test_entropy_closed_form_and_class_weights():
    expected = sum(h([1 - f, f]) for img in FG for f in img) / 8
    assert EntropyLoss()(logits()).item() == pytest.approx(expected, rel=1e-12)
    w = [0.1, 0.9]
    weighted = sum(-w[0] * (1 - f) * math.log(1 - f) - w[1] * f * math.log(f) for img in FG for f in img) / 8
    assert EntropyLoss(class_weight=w, loss_weight=2.0)(logits()).item() == pytest.approx(2 * weighted, rel=1e-12)


def test_class_ratio_kl_closed_forms():
    prior = [0.7, 0.3]
    ratios = [[1 - sum(img) / 4, sum(img) / 4] for img in FG]          # mean softmax per image

    def kl(a, b):
        return sum(x * math.log(x / y) for x, y in zip(a, b) if x > 0)
    img_pp = sum(kl(r, prior) for r in ratios) / 2
    img_rev = sum(kl(prior, r) for r in ratios) / 2
    batch = [(ratios[0][c] + ratios[1][c]) / 2 for c in range(2)]
    assert ClassRatioKLLoss(prior)(logits()).item() == pytest.approx(img_pp, rel=1e-6)
    assert ClassRatioKLLoss(prior, direction='prior_pred')(logits()).item() == pytest.approx(img_rev, rel=1e-6)
    assert ClassRatioKLLoss(prior, mode='batch', loss_weight=3.0)(logits()).item() == pytest.approx(
        3 * kl(batch, prior), rel=1e-6)
    # a prediction whose ratio equals the prior costs nothing
    p = torch.full((1, 1, 4, 4), 0.3, dtype=torch.float64)
    assert ClassRatioKLLoss(prior)(torch.cat([1 - p, p], 1).log()).item() == pytest.approx(0, abs=1e-7)


def test_max_normalized_ratio_as_reference_code():
    # per pixel: divide by the max over classes, sum over pixels, renormalise over classes
    probs = logits().softmax(1)
    scaled = []
    for img in FG:
        bg = sum((1 - f) / max(f, 1 - f) for f in img)
        fg = sum(f / max(f, 1 - f) for f in img)
        scaled.append([bg / (bg + fg), fg / (bg + fg)])
    torch.testing.assert_close(predicted_class_ratio(probs, 'max_normalized'),
                               torch.tensor(scaled, dtype=torch.float64))


def test_gradient_reaches_network_not_prior():
    torch.manual_seed(0)
    net = torch.nn.Conv2d(1, 2, 3, padding=1)
    x = torch.randn(2, 1, 8, 8)
    crit = ClassRatioKLLoss([0.8, 0.2])
    loss = crit(net(x)) + EntropyLoss()(net(x))
    loss.backward()
    assert net.weight.grad.abs().sum() > 0
    assert not crit.prior.requires_grad and crit.prior.grad is None
    assert list(crit.parameters()) == []


def test_bad_priors_refused():
    with pytest.raises(ValueError, match='sum to 1'):
        ClassRatioKLLoss([0.5, 0.6])
    with pytest.raises(ValueError, match='negative'):
        validate_prior([1.2, -0.2], 2)
    with pytest.raises(ValueError, match='3 entries but there are 2 classes'):
        validate_prior([0.2, 0.3, 0.5], 2)
    with pytest.raises(ValueError, match='prior has 3 classes but the network predicts 2'):
        ClassRatioKLLoss([0.2, 0.3, 0.5])(logits())
    loss = MODELS.build(dict(type='ClassRatioKLLoss', prior=[0.9, 0.1], mode='batch'))
    assert loss.loss_name == 'loss_ratio_kl'


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_priors_refused(bad):
    """NaN passed every comparison of the old check, and adaptation then ran to loss: nan."""
    with pytest.raises(ValueError, match=r'prior has non-finite entries \(NaN or inf\)'):
        validate_prior([bad, 0.5, 0.5], 3)
    with pytest.raises(ValueError, match='prior has non-finite entries'):
        ClassRatioKLLoss([bad, 0.5, 0.5])
    with pytest.raises(ValueError, match='bounds have non-finite entries'):
        validate_bounds([[0.0, bad], [0.0, 1.0]])


def test_nan_prior_in_the_sfda_config_stops_the_model_build():
    from mmengine.config import Config

    from tests.script_loader import ROOT
    cfg = Config.fromfile(f'{ROOT}/configs/sfda/sfda_unet-gn_200it_toy-shift.py')
    assert cfg.model.adapt_losses[1].type == 'ClassRatioKLLoss'
    cfg.model.adapt_losses[1].prior = [float('nan'), 0.5, 0.5]
    with pytest.raises(ValueError, match=r'ClassRatioKLLoss.*prior has non-finite entries'):
        MODELS.build(cfg.model)


def test_categorical_kl_zero_entries():
    p = torch.tensor([0.0, 1.0])
    q = torch.tensor([0.5, 0.5])
    assert categorical_kl(p, q).item() == pytest.approx(math.log(2))
    assert torch.isfinite(categorical_kl(q, p))


def test_class_ratio_bound_penalty_closed_form():
    # image ratios: [0.45, 0.55] and [0.75, 0.25]; bounds bg [0.5, 0.9], fg [0.1, 0.4]
    bounds = [[0.5, 0.9], [0.1, 0.4]]
    expected = ((0.5 - 0.45) ** 2 + (0.55 - 0.4) ** 2 + 0.0) / 2
    assert ClassRatioBoundLoss(bounds, loss_weight=2.0)(logits()).item() == pytest.approx(2 * expected, rel=1e-9)
    inside = ClassRatioBoundLoss([[0.0, 1.0], [0.0, 1.0]])(logits())
    assert inside.item() == 0.0
    x = logits().clone().requires_grad_()
    ClassRatioBoundLoss(bounds)(x).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    half = ClassRatioBoundLoss(bounds)(logits().half())
    assert half.dtype == torch.float32 and half.item() == pytest.approx(expected, rel=1e-2)


def test_bad_bounds_refused():
    with pytest.raises(ValueError, match='low <= high'):
        validate_bounds([[0.6, 0.5], [0.0, 0.5]])
    with pytest.raises(ValueError, match='no ratio vector summing to 1'):
        validate_bounds([[0.6, 0.9], [0.5, 0.9]])
    with pytest.raises(ValueError, match='pairs'):
        validate_bounds([0.5, 0.5])
    with pytest.raises(ValueError, match='bounds have 3 classes but the network predicts 2'):
        ClassRatioBoundLoss([[0, 1], [0, 1], [0, 1]])(logits())


@pytest.mark.parametrize('make', [lambda **kw: ClassRatioKLLoss([0.8, 0.2], **kw),
                                  lambda **kw: ClassRatioBoundLoss([[0.5, 0.9], [0.1, 0.4]], **kw)])
def test_deprecated_weight_alias(make):
    # weight= is the old name of loss_weight: it warns and scales the loss the same way
    with pytest.warns(DeprecationWarning, match='use loss_weight'):
        old = make(weight=2.5)
    new = make(loss_weight=2.5)
    assert old.loss_weight == new.loss_weight == 2.5
    assert old(logits()).item() == new(logits()).item() == pytest.approx(2.5 * make()(logits()).item(), rel=1e-12)
    with pytest.raises(ValueError, match='contradicts loss_weight=3.0'):
        make(weight=2.5, loss_weight=3.0)
