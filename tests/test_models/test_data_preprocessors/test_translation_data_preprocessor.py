import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import BaseDataElement

from visiondiv.registry import MODELS


def batch(n=3, nan=False):
    rng = np.random.default_rng(1)
    items = []
    for i in range(n):
        ct = rng.uniform(size=(1, 8, 4)).astype(np.float32)
        if nan and i == 1:
            ct[0, 2, 3] = np.nan
        items.append(dict(inputs=dict(img_ct=torch.from_numpy(ct),
                                      img_mr=torch.from_numpy(rng.uniform(size=(1, 8, 4)).astype(np.float32)),
                                      mask_ct=torch.from_numpy((rng.uniform(size=(1, 8, 4)) > 0.5).astype(np.float32))),
                          data_samples=BaseDataElement(metainfo=dict(slice_idx_ct=i))))
    return items


def test_stack_normalise_and_destruct():
    items = batch()
    pre = MODELS.build(dict(type='TranslationDataPreprocessor'))
    out = pre(pseudo_collate(items), training=True)
    assert sorted(out['inputs']) == ['img_ct', 'img_mr', 'mask_ct']
    for key in ('img_ct', 'img_mr'):
        ref = np.stack([it['inputs'][key].numpy().astype(np.float64) for it in items])
        assert out['inputs'][key].shape == (3, 1, 8, 4)
        np.testing.assert_allclose(out['inputs'][key].numpy(), 2 * ref - 1, atol=1e-6)    # (x - 0.5) / 0.5
        np.testing.assert_allclose(pre.destruct(out['inputs'][key]).numpy(), ref, atol=1e-6)
    mask = np.stack([it['inputs']['mask_ct'].numpy() for it in items])
    np.testing.assert_array_equal(out['inputs']['mask_ct'].numpy(), mask)                 # masks unchanged
    assert [s.slice_idx_ct for s in out['data_samples']] == [0, 1, 2]
    # destruct clamps: -3 -> 0, 0 -> 0.5, 5 -> 1
    np.testing.assert_allclose(pre.destruct(torch.tensor([-3.0, 0.0, 5.0])).numpy(), [0, 0.5, 1])
    other = MODELS.build(dict(type='TranslationDataPreprocessor', mean=0.25, std=2.0, data_keys=['img_mr']))
    got = other(pseudo_collate(items))['inputs']
    assert list(got) == ['img_mr']
    np.testing.assert_allclose(got['img_mr'].numpy(), (np.stack([it['inputs']['img_mr'].numpy() for it in items])
                                                       - 0.25) / 2.0, atol=1e-6)
    # an already stacked (default_collate) batch gives the same result
    stacked = dict(inputs={k: torch.stack([it['inputs'][k] for it in items]) for k in items[0]['inputs']})
    torch.testing.assert_close(pre(stacked)['inputs']['img_ct'], out['inputs']['img_ct'])


def test_errors_name_the_key():
    pre = MODELS.build(dict(type='TranslationDataPreprocessor'))
    with pytest.raises(ValueError, match=r"'img_ct' holds 1 NaN / inf values"):
        pre(pseudo_collate(batch(nan=True)))
    items = batch(2)
    items[1]['inputs']['img_mr'] = torch.zeros(1, 4, 4)
    with pytest.raises(ValueError, match=r"items of 'img_mr' differ in shape"):
        pre(pseudo_collate(items))
    with pytest.raises(KeyError, match=r"data key 'img_pet' is not in the inputs; present: \['img_ct', 'img_mr', "):
        MODELS.build(dict(type='TranslationDataPreprocessor', data_keys=['img_pet']))(pseudo_collate(batch()))
    items = batch(2)
    for it in items:
        it['inputs']['seg_ct'] = it['inputs'].pop('mask_ct')
    with pytest.raises(ValueError, match=r"input key 'seg_ct' must start with 'img_'"):
        pre(pseudo_collate(items))
    with pytest.raises(ValueError, match='std finite and > 0'):
        MODELS.build(dict(type='TranslationDataPreprocessor', std=0))
