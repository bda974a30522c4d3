import math

import numpy as np
import pytest
import torch
from scipy.stats import entropy

from visiondiv.evaluation import intensity_kl, kl_from_histograms


def test_identical_inputs_give_zero():
    x = np.random.default_rng(0).normal(size=(3, 8, 8))
    assert intensity_kl(x, x.copy()) == 0.0
    assert intensity_kl(torch.from_numpy(x), x, bins=7, value_range=(-1, 1)) == 0.0
    # a == b == one constant: zero-width union range, widened to (v - 0.5, v + 0.5) as numpy does
    assert intensity_kl(np.full(5, 3.0), np.full((2, 2), 3.0), bins=4) == 0.0


@pytest.mark.parametrize('eps', [1e-10, 1e-3])
def test_disjoint_uniform_closed_form(eps):
    """a fills bins 0..ka-1 uniformly, b bins ka..ka+kb-1, the remaining B-ka-kb bins are empty in both."""
    B, ka, kb = 16, 3, 5
    a = np.repeat(np.arange(ka) + 0.5, 4)                 # bin i = [i, i + 1) of the range (0, B)
    b = np.repeat(np.arange(ka, ka + kb) + 0.5, 2)
    z = 1 + B * eps
    p_hi, p_lo = (1 / ka + eps) / z, eps / z
    q_hi, q_lo = (1 / kb + eps) / z, eps / z
    expected = ka * p_hi * math.log(p_hi / q_lo) + kb * p_lo * math.log(p_lo / q_hi)   # empty bins: log 1 = 0
    assert intensity_kl(a, b, bins=B, value_range=(0, B), eps=eps) == pytest.approx(expected, rel=1e-12)


def test_two_bins_by_hand_and_asymmetry():
    a = np.array([0.1, 0.2, 0.6, 0.9])                    # (1/2, 1/2) over bins [0, .5), [.5, 1]
    b = np.array([0.3, 0.7, 0.8, 1.0])                    # (1/4, 3/4); 1.0 is the right edge: last bin
    kl_ab = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    kl_ba = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert intensity_kl(a, b, bins=2, value_range=(0, 1), eps=0) == pytest.approx(kl_ab, rel=1e-12)
    assert intensity_kl(b, a, bins=2, value_range=(0, 1), eps=0) == pytest.approx(kl_ba, rel=1e-12)
    assert abs(kl_ab - kl_ba) > 0.01


def test_masks_and_value_range_select_values():
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    b = torch.tensor([0.3, 0.7, 0.8, 1.0])
    a = np.array([[0.1, 0.6], [5.0, np.nan]])             # the masked-out NaN is never looked at
    mask = np.array([[True, True], [False, False]])
    assert intensity_kl(a, b, bins=2, value_range=(0, 1), mask_a=mask, eps=0) == pytest.approx(kl, rel=1e-12)
    b_more = torch.tensor([0.3, 0.7, 0.8, 1.0, 0.1, 0.2])
    assert intensity_kl(a, b_more, bins=2, value_range=(0, 1), mask_a=mask, eps=0,
                        mask_b=torch.tensor([True] * 4 + [False] * 2)) == pytest.approx(kl, rel=1e-12)
    # values outside value_range are ignored: -3 and 7 drop out
    a_wide = np.array([0.1, 0.6, -3.0, 7.0])
    assert intensity_kl(a_wide, b, bins=2, value_range=(0, 1), eps=0) == pytest.approx(kl, rel=1e-12)


def test_right_edge_belongs_to_last_bin():
    assert intensity_kl(np.array([1.0]), np.array([0.75]), bins=2, value_range=(0, 1), eps=0) == 0.0
    assert intensity_kl(np.array([1.0]), np.array([0.25]), bins=2, value_range=(0, 1), eps=0) == math.inf


def test_matches_scipy_entropy_on_random_data():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, (40, 25)), rng.normal(0.5, 1.3, 700)
    bins, eps = 32, 1e-6
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    edges = np.linspace(lo, hi, bins + 1)
    hists = []
    for x in (a, b):
        h = np.histogram(x.ravel(), edges)[0] / x.size + eps
        hists.append(h / h.sum())
    assert intensity_kl(a, b, bins=bins, eps=eps) == pytest.approx(entropy(*hists), rel=1e-12)
    a32 = torch.from_numpy(a).float()
    assert intensity_kl(a32, b, bins=bins, value_range=(-2, 2), eps=eps) == pytest.approx(
        entropy(*[np.histogram(x.ravel(), bins, (-2, 2))[0] / np.sum((x >= -2) & (x <= 2)) + eps
                  for x in (a32.double().numpy(), b)]), rel=1e-9)


def test_kl_from_histograms_zero_bins():
    assert kl_from_histograms(np.array([1, 0]), np.array([1, 1]), eps=0) == pytest.approx(math.log(2), rel=1e-12)
    assert kl_from_histograms(np.array([1, 1]), np.array([1, 0]), eps=0) == math.inf
    with pytest.raises(ValueError, match='counts_a has 2 bins, counts_b 3'):
        kl_from_histograms(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match='counts_a is empty'):
        kl_from_histograms(np.zeros(2), np.ones(2))


@pytest.mark.parametrize('kwargs,match', [
    (dict(a=np.array([0.0, np.nan])), r'a: 1 of 2 selected values are not finite \(1 NaN, 0 inf\)'),
    (dict(b=np.array([np.inf, 1.0])), r'b: 1 of 2 selected values are not finite \(0 NaN, 1 inf\)'),
    (dict(mask_a=np.zeros(3, bool)), 'a: no values selected'),
    (dict(mask_b=np.ones(2, bool)), r'mask_b has shape \(2,\), but b has shape \(3,\)'),
    (dict(mask_a=np.ones(3, np.uint8)), 'mask_a must be boolean'),
    (dict(value_range=(5, 6)), r'a: no selected value lies in value_range \(5.0, 6.0\)'),
    (dict(value_range=(1, 0)), 'value_range must be two finite numbers with lo < hi'),
    (dict(value_range=(0, np.inf)), 'value_range must be two finite numbers'),
    (dict(value_range=(0, 1, 2)), 'value_range must be two numbers'),
    (dict(bins=0), 'bins must be an integer >= 1'),
    (dict(bins=2.5), 'bins must be an integer >= 1'),
    (dict(eps=-1e-3), 'eps must be a finite number >= 0'),
])
def test_bad_input_names_the_argument(kwargs, match):
    args = dict(a=np.array([0.0, 0.5, 1.0]), b=np.array([0.2, 0.4, 0.9]))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        intensity_kl(**args)
