import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from visiondiv.evaluation import IntensityKL, intensity_kl
from visiondiv.registry import METRICS


def batches(seed=0, n_batches=3, per_batch=2, masks=False):
    """Pseudo-MR in [-1, 1] (tanh of a shifted Gaussian) and real MR: lists of data samples per batch."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_batches):
        samples = []
        for i in range(per_batch):
            fake = np.tanh(rng.normal(0.2, 0.6, (1, 12, 10)))
            real = np.tanh(rng.normal(0.0, 0.8, (12, 10)))            # (H, W) is accepted too
            s = dict(fake_mr=torch.from_numpy(fake).float(), real_mr=torch.from_numpy(real).float())
            if masks:
                s['body'] = torch.from_numpy(rng.random((1, 12, 10)) > 0.3)
                s['ref_body'] = torch.from_numpy(rng.random((12, 10)) > 0.5)
            samples.append(BaseDataElement(**s) if (k + i) % 2 else s)
        out.append(samples)
    return out


def run(metric, data):
    for samples in data:
        metric.process({}, samples)
    return metric.evaluate(sum(len(s) for s in data))


def concatenated(data, key, mask_key=None):
    values = []
    for samples in data:
        for s in samples:
            v = s[key].double().numpy() if isinstance(s, dict) else s.get(key).double().numpy()
            if mask_key is not None:
                m = s[mask_key] if isinstance(s, dict) else s.get(mask_key)
                v = v[m.numpy()]
            values.append(v.ravel())
    return np.concatenate(values)


@pytest.mark.parametrize('value_range', [(-1.0, 1.0), (-0.5, 0.5), None])
def test_metric_over_batches_equals_functional_on_all_values(value_range):
    data = batches()
    metric = METRICS.build(dict(type='IntensityKL', bins=32, value_range=value_range, eps=1e-8))
    res = run(metric, data)
    expected = intensity_kl(concatenated(data, 'fake_mr'), concatenated(data, 'real_mr'), 32, value_range, eps=1e-8)
    assert set(res) == {'translation/intensity_kl'}
    assert res['translation/intensity_kl'] == pytest.approx(expected, rel=1e-12)
    assert 0.01 < expected < 5                                          # the two distributions differ


def test_metric_with_masks_and_keys():
    data = batches(seed=1, masks=True)
    metric = IntensityKL(pred_key='real_mr', ref_key='fake_mr', mask_key='ref_body', ref_mask_key='body',
                         bins=16, value_range=None, prefix='x')
    res = run(metric, data)
    expected = intensity_kl(concatenated(data, 'real_mr', 'ref_body'), concatenated(data, 'fake_mr', 'body'), 16)
    assert res['x/intensity_kl'] == pytest.approx(expected, rel=1e-12)


def test_missing_key_and_bad_values():
    metric = IntensityKL()
    with pytest.raises(KeyError, match=r"data sample 0 has no 'fake_mr'; it holds \['pseudo', 'real_mr'\]"):
        metric.process({}, [dict(pseudo=torch.zeros(2, 2), real_mr=torch.zeros(2, 2))])
    with pytest.raises(KeyError, match=r"data sample 1 has no 'real_mr'; it holds \['fake_mr'\]"):
        metric.process({}, [dict(fake_mr=torch.zeros(2), real_mr=torch.zeros(2)),
                            BaseDataElement(fake_mr=torch.zeros(2))])
    with pytest.raises(ValueError, match=r'fake_mr \(data sample 0\): 1 of 4 selected values are not finite'):
        metric.process({}, [dict(fake_mr=torch.tensor([0.0, 1.0, float('nan'), 0.5]), real_mr=torch.zeros(4))])
    with pytest.raises(ValueError, match='value_range must be two finite numbers'):
        IntensityKL(value_range=(1, -1))
    out_of_range = IntensityKL(value_range=(-1, 1))
    out_of_range.process({}, [dict(fake_mr=torch.full((2, 2), 3.0), real_mr=torch.zeros(2, 2))])
    with pytest.raises(ValueError, match=r'no fake_mr values in value_range \(-1.0, 1.0\)'):
        out_of_range.evaluate(1)
