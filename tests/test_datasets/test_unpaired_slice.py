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


def labelled_mr(root, rng):
    """A labelled MR volume (8 x 8 x 5) in mr_lab/, as the extra domain 'mr_labelled'."""
    for sub in ('mr_lab/images', 'mr_lab/labels'):
        (root / sub).mkdir(parents=True)
    mr = rng.gamma(2.0, 50.0, (8, 8, 5)).astype(np.float32)
    lab = (rng.uniform(size=mr.shape) > 0.5).astype(np.uint8)
    save_nifti(str(root / 'mr_lab/images' / 'mrl_0.nii.gz'), mr, MR_SPACING)
    save_nifti(str(root / 'mr_lab/labels' / 'mrl_0.nii.gz'), lab, MR_SPACING)
    return mr, lab, dict(name='mr_labelled', img_dir='mr_lab/images', label_dir='mr_lab/labels',
                         normalize='percentile')


def test_extra_domains_are_paired_as_domain_b(tree):
    root, _, _, _ = tree
    mr, lab, extra = labelled_mr(root, np.random.default_rng(1))
    ds = build(root, test_mode=True, extra_domains=[extra])
    assert ds.metainfo['domains'] == ('ct', 'mr')
    for i in range(6):
        item = ds[i]
        assert (item['slice_idx_mr'], item['slice_idx_mr_labelled']) == (i % 4, i % 5)
        np.testing.assert_allclose(item['img_mr_labelled'], mr_reference(mr)[:, :, i % 5], atol=1e-5)
        np.testing.assert_array_equal(item['mask_mr_labelled'], lab[:, :, i % 5])
    # training: B's slice, then the extra domain's, each from np.random
    ds = build(root, extra_domains=[extra])
    np.random.seed(3)
    expected = [(np.random.randint(4), np.random.randint(5)) for _ in range(20)]
    np.random.seed(3)
    got = [(item['slice_idx_mr'], item['slice_idx_mr_labelled']) for item in (ds[0] for _ in range(20))]
    assert got == expected
    packed = build(root, test_mode=True, extra_domains=[extra], pipeline=[dict(
        type='PackTranslationInputs', keys=('img_ct', 'img_mr', 'mask_ct', 'img_mr_labelled', 'mask_mr_labelled'))])[1]
    np.testing.assert_array_equal(packed['inputs']['mask_mr_labelled'][0].numpy(), lab[:, :, 1])


def test_extra_domain_errors_name_it(tree):
    root, _, _, _ = tree
    _, _, extra = labelled_mr(root, np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"same name 'mr' .*\['ct', 'mr', 'mr'\]"):
        build(root, extra_domains=[dict(extra, name='mr')])
    with pytest.raises(ValueError, match=r"extra_domains\[0\] needs 'normalize'"):
        build(root, extra_domains=[{k: v for k, v in extra.items() if k != 'normalize'}])
    (root / 'mr_small').mkdir()
    save_nifti(str(root / 'mr_small' / 'mr_9.nii.gz'), np.ones((6, 8, 2), np.float32), MR_SPACING)
    ds = build(root, extra_domains=[dict(extra, img_dir='mr_small', label_dir=None)])
    with pytest.raises(ValueError, match=r'ct_0\.nii\.gz has shape \(8, 8\), .*mr_9\.nii\.gz has \(6, 8\)'):
        ds[0]


def test_a_paired_domain_without_slices_is_named(tree):
    """slice_filter='foreground' over labels without foreground leaves no slice to pair."""
    root, _, _, _ = tree
    _, _, extra = labelled_mr(root, np.random.default_rng(1))
    (root / 'mr_lab/empty_labels').mkdir()
    save_nifti(str(root / 'mr_lab/empty_labels' / 'mrl_0.nii.gz'), np.zeros((8, 8, 5), np.uint8), MR_SPACING)
    empty = dict(extra, label_dir='mr_lab/empty_labels', slice_filter='foreground')
    with pytest.raises(ValueError, match=r"extra_domains\[0\] \('mr_labelled', img_dir='mr_lab/images'\) has no "
                                         r'slices'):
        build(root, extra_domains=[empty])
    with pytest.raises(ValueError, match=r"domain_b \('mr', img_dir='mr_lab/images'\) has no slices"):
        build(root, domain_b=dict(empty, name='mr'))
