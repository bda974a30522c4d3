import numpy as np
import pytest
import torch

from visiondiv.registry import TRANSFORMS


def results():
    rng = np.random.default_rng(0)
    return dict(img_ct=rng.uniform(size=(6, 4)).astype(np.float32), img_mr=rng.uniform(size=(6, 4)),
                mask_ct=(rng.uniform(size=(6, 4)) > 0.5).astype(np.uint8), case_id_ct='ct_0', slice_idx_ct=3,
                spacing_ct=(2.0, 2.0, 4.0), sample_idx=5)


def test_pack_inputs_and_meta():
    res = results()
    pack = TRANSFORMS.build(dict(type='PackTranslationInputs', meta_keys=('case_id_ct', 'slice_idx_ct',
                                                                           'spacing_ct', 'case_id_mr')))
    out = pack(dict(res))
    assert sorted(out['inputs']) == ['img_ct', 'img_mr', 'mask_ct']
    for key in ('img_ct', 'img_mr', 'mask_ct'):
        t = out['inputs'][key]
        assert t.dtype == torch.float32 and t.shape == (1, 6, 4)
        np.testing.assert_array_equal(t[0].numpy(), res[key].astype(np.float32))
    assert set(out['inputs']['mask_ct'].unique().tolist()) <= {0.0, 1.0}
    # meta keys absent from the results ('case_id_mr') are skipped
    assert out['data_samples'].metainfo == dict(case_id_ct='ct_0', slice_idx_ct=3, spacing_ct=(2.0, 2.0, 4.0))


def test_pack_errors_name_the_key():
    pack = TRANSFORMS.build(dict(type='PackTranslationInputs', keys=('img_ct', 'img_pet')))
    with pytest.raises(KeyError, match=r"'img_pet' is not in the results; present: \['case_id_ct', 'img_ct'"):
        pack(results())
    res = results()
    res['mask_ct'] = res['mask_ct'] * 2
    with pytest.raises(ValueError, match=r"mask 'mask_ct' must hold only 0 and 1, found values \[0, 2\]"):
        TRANSFORMS.build(dict(type='PackTranslationInputs'))(res)
    res = results()
    res['img_mr'] = res['img_mr'][None]
    with pytest.raises(ValueError, match=r"'img_mr' must be a 2-D \(H, W\) array, got shape \(1, 6, 4\)"):
        TRANSFORMS.build(dict(type='PackTranslationInputs'))(res)
    with pytest.raises(TypeError, match='not a string'):
        TRANSFORMS.build(dict(type='PackTranslationInputs', keys='img_ct'))
