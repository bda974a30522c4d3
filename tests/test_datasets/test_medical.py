import re

import nibabel as nib
import numpy as np
import pytest
import torch

from visiondiv.datasets import normalize_volume
from visiondiv.evaluation import MedicalVolumeMetric, volume_metrics
from visiondiv.registry import DATASETS

SPACING = (0.8, 0.8, 2.5)


def save(path, arr, spacing=SPACING):
    img = nib.Nifti1Image(arr, np.diag([*spacing, 1.0]))
    nib.save(img, str(path))


def make_cases(root, n=2):
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    labels = []
    for i in range(n):
        lab = np.zeros((16, 16, 6), np.uint8)
        lab[4:10, 5:12, 2:4 + i] = 1
        img = np.random.default_rng(i).normal(100, 10, lab.shape).astype(np.float32) + 50 * lab
        save(root / 'images' / f'case{i}.nii.gz', img)
        save(root / 'labels' / f'case{i}.nii.gz', lab)
        labels.append(lab)
    return labels


def build(root, **kw):
    return DATASETS.build(dict(type='MedicalSliceDataset', data_root=str(root), pipeline=[], **kw))


def test_slices_spacing_filter_and_normalisation(tmp_path):
    make_cases(tmp_path)
    ds = build(tmp_path)
    assert len(ds) == 12
    item = ds[3]
    assert item['img'].shape == (16, 16) and item['spacing'] == pytest.approx(SPACING)
    assert item['case_id'] == 'case0' and item['slice_idx'] == 3 and item['num_slices'] == 6
    fg = build(tmp_path, slice_filter='foreground')
    assert [(d['case_id'], d['slice_idx']) for d in (fg[i] for i in range(len(fg)))] == \
        [('case0', 2), ('case0', 3), ('case1', 2), ('case1', 3), ('case1', 4)]
    vol = np.stack([ds[i]['img'] for i in range(6)], -1)
    assert abs(vol.mean()) < 1e-5 and vol.std() == pytest.approx(1, rel=1e-4)      # z-score per volume
    unlabelled = build(tmp_path, label_dir=None)
    assert 'gt_seg_map' not in unlabelled[0]


@pytest.mark.parametrize('bad,match', [
    (lambda lab: lab[:8], 'label shape'),
    (lambda lab: lab.astype(np.float32) + 0.5, 'labels must be integers'),
    (lambda lab: lab * 3, r'labels must lie in \[0, 2\)'),
])
def test_bad_labels_name_the_file(tmp_path, bad, match):
    labels = make_cases(tmp_path, n=1)
    save(tmp_path / 'labels' / 'case0.nii.gz', bad(labels[0]))
    with pytest.raises(ValueError, match=match) as err:
        build(tmp_path)
    assert 'case0.nii.gz' in str(err.value)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='img_dir'):
        build(tmp_path)
    make_cases(tmp_path, n=1)
    (tmp_path / 'labels' / 'case0.nii.gz').unlink()
    with pytest.raises(FileNotFoundError, match=r'labels/case0\.nii\.gz'):
        build(tmp_path)


def test_volume_metric_reassembles_cases(tmp_path):
    labels = make_cases(tmp_path)
    ds = build(tmp_path)
    metric = MedicalVolumeMetric()
    metric.dataset_meta = ds.metainfo
    preds = []
    for i in range(len(ds)):
        d = ds[i]
        pred = np.roll(d['gt_seg_map'], 1, axis=0) if d['case_id'] == 'case1' else d['gt_seg_map']
        preds.append(pred)
        metric.process({}, [dict(case_id=d['case_id'], slice_idx=d['slice_idx'], num_slices=d['num_slices'],
                                 slice_axis=d['slice_axis'], spacing=d['spacing'],
                                 pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
                                 gt_sem_seg=dict(data=torch.from_numpy(d['gt_seg_map'])[None]))])
    res = metric.evaluate(len(ds))
    pred1 = np.stack(preds[6:], -1)
    ref = volume_metrics(pred1, labels[1], 2, SPACING)
    assert res['med/dice_foreground'] == pytest.approx((1.0 + ref['dice'][0]) / 2)
    assert res['med/assd_foreground'] == pytest.approx((0.0 + ref['assd'][0]) / 2)
    assert 0 < ref['assd'][0] < 0.8 + 1e-6


@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_non_finite_voxels_name_the_file_and_count(tmp_path, bad):
    """One NaN voxel made the whole z-scored volume NaN; now the volume is refused."""
    make_cases(tmp_path, n=1)
    img = nib.load(str(tmp_path / 'images' / 'case0.nii.gz')).get_fdata().astype(np.float32)
    img[3, 4, 1] = img[5, 5, 5] = bad
    save(tmp_path / 'images' / 'case0.nii.gz', img)
    kind = '(2 NaN, 0 inf)' if np.isnan(bad) else '(0 NaN, 2 inf)'
    with pytest.raises(ValueError, match=r'images/case0\.nii\.gz: 2 of 1536 voxels are not finite ' + re.escape(kind)):
        build(tmp_path)


def test_domain_is_case_insensitive_and_checked(tmp_path):
    make_cases(tmp_path, n=1)
    assert build(tmp_path, domain=' Source ').domain == 'source'
    assert build(tmp_path, domain='TARGET').domain == 'target'
    assert build(tmp_path).domain is None
    with pytest.raises(ValueError, match=r"domain must be one of \('source', 'target'\) or None, got 'sorce'"):
        build(tmp_path, domain='sorce')


def test_ct_window_normalisation_closed_form(tmp_path):
    """Clip to the HU window, then (v - lo) / (hi - lo): -1000 -> 0, -300 -> 0.5, 400 -> 1, beyond clipped."""
    from visiondiv.datasets import normalize_volume
    hu = np.array([-3000.0, -1000.0, -650.0, -300.0, 50.0, 400.0, 2000.0], np.float32)
    np.testing.assert_allclose(normalize_volume(hu, 'window'), [0, 0, 0.25, 0.5, 0.75, 1, 1], atol=1e-7)
    np.testing.assert_allclose(normalize_volume(hu, 'window', window=(-300, 50)), [0, 0, 0, 0, 1, 1, 1])
    for bad in [(400, -1000), (0, 0), (np.nan, 1), (0, np.inf), (1,), 'ab']:
        with pytest.raises(ValueError, match='window must be'):
            normalize_volume(hu, 'window', window=bad)
    (tmp_path / 'images').mkdir()
    ct = np.full((4, 4, 2), -1000.0, np.float32)
    ct[1:3, 1:3, 1] = 50.0                                   # soft tissue in slice 1
    save(tmp_path / 'images' / 'ct0.nii.gz', ct)
    ds = build(tmp_path, label_dir=None, normalize='window', window=(-1000, 400))
    expected = (50.0 + 1000.0) / 1400.0
    np.testing.assert_allclose(ds[1]['img'][1:3, 1:3], expected, rtol=1e-6)
    assert ds[0]['img'].max() == 0.0 and ds[1]['img'][0, 0] == 0.0
    with pytest.raises(ValueError, match=r"MedicalSliceDataset\(img_dir='images'\): window must be two finite"):
        build(tmp_path, label_dir=None, normalize='window', window=(400, -1000))


def test_percentile_normalisation_keeps_float32_and_closed_form():
    """Values 0..99 with percentiles (10, 90): clipped to [9.9, 89.1] (numpy's linear interpolation) and scaled."""
    vol = np.arange(100, dtype=np.float32).reshape(4, 5, 5)
    out = normalize_volume(vol, 'percentile', percentiles=(10, 90))
    assert out.dtype == np.float32
    expected = (np.clip(np.arange(100.0), 9.9, 89.1) - 9.9) / (89.1 - 9.9)
    np.testing.assert_allclose(out.ravel(), expected, atol=1e-6)
