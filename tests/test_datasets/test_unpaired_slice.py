import os.path as osp

import numpy as np
import pytest

from visiondiv.datasets import save_nifti
from visiondiv.registry import DATASETS

CT_SPACING, MR_SPACING = (2.0, 2.0, 4.0), (1.5, 1.5, 3.0)


@pytest.fixture
def tree(tmp_path):
    """2 CT volumes x 3 slices (labelled), 1 MR volume x 4 slices (unlabelled), all 8 x 8 in-plane."""
    rng = np.random.default_rng(0)
    cts, labels = [], []
    for sub in ('ct/images', 'ct/labels', 'mr/images'):
        (tmp_path / sub).mkdir(parents=True)
    for i in range(2):
        ct = rng.uniform(-1500, 1500, (8, 8, 3)).astype(np.float32)
        lab = (rng.uniform(size=ct.shape) > 0.7).astype(np.uint8)
        save_nifti(str(tmp_path / 'ct/images' / f'ct_{i}.nii.gz'), ct, CT_SPACING)
        save_nifti(str(tmp_path / 'ct/labels' / f'ct_{i}.nii.gz'), lab, CT_SPACING)
        cts.append(ct)
        labels.append(lab)
    mr = rng.gamma(2.0, 100.0, (8, 8, 4)).astype(np.float32)
    save_nifti(str(tmp_path / 'mr/images' / 'mr_0.nii.gz'), mr, MR_SPACING)
    return tmp_path, cts, labels, mr


def build(root, pipeline=(), **kw):
    cfg = dict(type='UnpairedSliceDataset', data_root=str(root), pipeline=list(pipeline),
               domain_a=dict(name='ct', img_dir='ct/images', label_dir='ct/labels', normalize='window',
                             window=(-1000, 400)),
               domain_b=dict(name='mr', img_dir='mr/images', normalize='percentile'))
    cfg.update(kw)
    return DATASETS.build(cfg)


def ct_reference(ct):
    return (np.clip(ct.astype(np.float64), -1000, 400) + 1000) / 1400


def mr_reference(mr):
    lo, hi = np.percentile(mr.astype(np.float64), (0.5, 99.5))
    return (np.clip(mr, lo, hi) - lo) / (hi - lo)


def test_test_mode_pairs_slice_i_with_i_mod_len_b(tree):
    root, cts, labels, mr = tree
    ds = build(root, test_mode=True)
    assert len(ds) == 6 and ds.metainfo['domains'] == ('ct', 'mr')
    for i in range(6):
        item = ds[i]
        case, k, j = i // 3, i % 3, i % 4
        assert item['img_ct'].dtype == np.float32 and item['img_ct'].shape == (8, 8)
        np.testing.assert_allclose(item['img_ct'], ct_reference(cts[case])[:, :, k], atol=1e-6)
        np.testing.assert_array_equal(item['mask_ct'], labels[case][:, :, k])
        assert item['mask_ct'].dtype == np.uint8
        np.testing.assert_allclose(item['img_mr'], mr_reference(mr)[:, :, j], atol=1e-5)
        assert 'mask_mr' not in item
        assert (item['case_id_ct'], item['slice_idx_ct'], item['case_id_mr'], item['slice_idx_mr']) == \
            (f'ct_{case}', k, 'mr_0', j)
        assert item['img_path_ct'] == osp.join(str(root), 'ct/images', f'ct_{case}.nii.gz')
        assert item['img_path_mr'] == osp.join(str(root), 'mr/images', 'mr_0.nii.gz')
        assert item['spacing_ct'] == CT_SPACING and item['spacing_mr'] == MR_SPACING
        assert 0 <= item['img_ct'].min() and item['img_mr'].max() <= 1


def test_training_draws_b_with_np_random(tree):
    root, _, _, mr = tree
    ds = build(root)
    np.random.seed(7)
    expected = [np.random.randint(4) for _ in range(40)]
    np.random.seed(7)
    got = [ds[i % 6]['slice_idx_mr'] for i in range(40)]
    assert got == expected and set(got) == {0, 1, 2, 3}
    item = ds[2]
    np.testing.assert_allclose(item['img_mr'], mr_reference(mr)[:, :, item['slice_idx_mr']], atol=1e-5)


def test_indices_slice_filter_and_packing(tree):
    root, cts, labels, _ = tree
    assert len(build(root, indices=[1, 4])) == 2
    fg = build(root, test_mode=True, domain_a=dict(name='ct', img_dir='ct/images', label_dir='ct/labels',
                                                   normalize='window', slice_filter='foreground'))
    assert len(fg) == sum(int(lab[:, :, k].any()) for lab in labels for k in range(3))
    ds = build(root, test_mode=True, pipeline=[dict(type='PackTranslationInputs')])
    packed = ds[4]
    assert sorted(packed['inputs']) == ['img_ct', 'img_mr', 'mask_ct']
    assert packed['inputs']['img_ct'].shape == (1, 8, 8)
    np.testing.assert_allclose(packed['inputs']['img_ct'][0].numpy(), ct_reference(cts[1])[:, :, 1], atol=1e-6)
    assert packed['data_samples'].metainfo['slice_idx_mr'] == 0 and packed['data_samples'].case_id_ct == 'ct_1'


def test_errors_name_the_key_or_files(tree):
    root, _, _, _ = tree
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['img_dri'\] in domain_b"):
        build(root, domain_b=dict(name='mr', img_dri='mr/images', normalize='percentile'))
    with pytest.raises(ValueError, match=r"domain_a\['normalize'\] must be one of .* got 'zscore'"):
        build(root, domain_a=dict(name='ct', img_dir='ct/images', normalize='zscore'))
    with pytest.raises(ValueError, match="domain_b needs 'img_dir'"):
        build(root, domain_b=dict(name='mr', normalize='percentile'))
    with pytest.raises(ValueError, match="same name 'ct'"):
        build(root, domain_b=dict(name='ct', img_dir='mr/images', normalize='percentile'))
    with pytest.raises(FileNotFoundError, match='nope'):
        build(root, domain_b=dict(name='mr', img_dir='nope', normalize='percentile'))
    (root / 'mr_small').mkdir()
    save_nifti(str(root / 'mr_small' / 'mr_9.nii.gz'), np.ones((6, 8, 2), np.float32), MR_SPACING)
    ds = build(root, domain_b=dict(name='mr', img_dir='mr_small', normalize='percentile'))
    with pytest.raises(ValueError, match=r'ct_0\.nii\.gz has shape \(8, 8\), .*mr_9\.nii\.gz has \(6, 8\)'):
        ds[0]
