import os

import numpy as np
import pytest
import SimpleITK as sitk

from tests.dicom_fixtures import write_ct_series, write_rtstruct, write_seg
from tests.script_loader import load_script
from visiondiv.datasets import MedicalSliceDataset, load_nifti, save_nifti


def load():
    return load_script('tools', 'data', 'medical', 'convert.py')


def write_mhd(path, vol_xyz, spacing):
    """MetaImage header + raw file written by SimpleITK (its arrays are (z, y, x))."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(vol_xyz.transpose(2, 1, 0)))
    image.SetSpacing(spacing)
    sitk.WriteImage(image, path)


def test_ivdm3seg_layout(tmp_path):
    root = tmp_path / 'ivd'
    rng = np.random.default_rng(0)
    for case in ('01', '02', '03'):
        (root / case).mkdir(parents=True)
        lab = np.zeros((8, 8, 4), np.uint8)
        lab[2:5, 3:6, 1:3] = 255
        save_nifti(str(root / case / f'{case}_Labels.nii'), lab, (1.25, 1.25, 2.0))
        for m in ('fat', 'inn', 'opp', 'wat'):
            save_nifti(str(root / case / f'{case}_{m}.nii'), rng.normal(size=(8, 8, 4)).astype(np.float32),
                       (1.25, 1.25, 2.0))
    out = tmp_path / 'out'
    load().main(['ivdm3seg', str(root), '--out', str(out), '--num-test', '1'])
    assert sorted(os.listdir(out / 'wat' / 'train' / 'images')) == ['case_01.nii.gz', 'case_02.nii.gz']
    assert os.listdir(out / 'inn' / 'test' / 'labels') == ['case_03.nii.gz']
    lab, spacing = load_nifti(str(out / 'inn' / 'test' / 'labels' / 'case_03.nii.gz'))
    assert spacing == (1.25, 1.25, 2.0) and set(np.unique(lab)) == {0, 1} and lab.sum() == 3 * 3 * 2
    img, _ = load_nifti(str(out / 'wat' / 'train' / 'images' / 'case_01.nii.gz'))
    np.testing.assert_allclose(img, load_nifti(str(root / '01' / '01_wat.nii'))[0])
    ds = MedicalSliceDataset(data_root=str(out), img_dir='inn/train/images', label_dir='inn/train/labels',
                             metainfo=dict(classes=('background', 'disc')), pipeline=[])
    assert len(ds) == 2 * 4


def test_promise12_layout(tmp_path):
    part = tmp_path / 'TrainingData_Part1'
    part.mkdir()
    for case in ('00', '01'):
        img = np.full((6, 5, 3), 100 + int(case), np.int16)
        seg = np.zeros((6, 5, 3), np.uint8)
        seg[1:3, 1:3, 1] = 1
        write_mhd(str(part / f'Case{case}.mhd'), img, (0.6, 0.6, 3.6))
        write_mhd(str(part / f'Case{case}_segmentation.mhd'), seg, (0.6, 0.6, 3.6))
    out = tmp_path / 'out'
    load().main(['promise12', str(tmp_path), '--out', str(out), '--num-test', '1'])
    img, spacing = load_nifti(str(out / 'prostate' / 'test' / 'images' / 'case_01.nii.gz'))
    assert img.shape == (6, 5, 3) and np.all(img == 101)
    assert spacing == pytest.approx((0.6, 0.6, 3.6))
    assert load_nifti(str(out / 'prostate' / 'train' / 'labels' / 'case_00.nii.gz'))[0].sum() == 4


def test_mmwhs_codes_and_mismatch_error(tmp_path):
    for m in ('ct', 'mr'):
        (tmp_path / f'{m}_train').mkdir()
        lab = np.zeros((6, 6, 2), np.int16)
        lab[0, 0, 0], lab[1, 1, 0], lab[2, 2, 0], lab[3, 3, 0], lab[4, 4, 0] = 820, 420, 500, 205, 600
        save_nifti(str(tmp_path / f'{m}_train' / f'{m}_train_1001_label.nii.gz'), lab, (1, 1, 1))
        save_nifti(str(tmp_path / f'{m}_train' / f'{m}_train_1001_image.nii.gz'),
                   np.zeros((6, 6, 2), np.float32), (1, 1, 1))
    out = tmp_path / 'out'
    load().main(['mmwhs', str(tmp_path), '--out', str(out)])
    lab, _ = load_nifti(str(out / 'mr' / 'train' / 'labels' / 'case_1001.nii.gz'))
    assert [lab[i, i, 0] for i in range(5)] == [1, 2, 3, 4, 0]          # AA, LAC, LVC, MYO, RVC dropped
    save_nifti(str(tmp_path / 'ct_train' / 'ct_train_1001_image.nii.gz'), np.zeros((5, 6, 2), np.float32),
               (1, 1, 1))
    with pytest.raises(FileExistsError, match='exists and is not an empty folder'):
        load().main(['mmwhs', str(tmp_path), '--out', str(out)])
    with pytest.raises(ValueError, match=r'ct_train_1001_label\.nii\.gz: label shape \(6, 6, 2\) differs'):
        load().main(['mmwhs', str(tmp_path), '--out', str(tmp_path / 'out2')])
    with pytest.raises(ValueError, match='unknown MM-WHS structures'):
        load().main(['mmwhs', str(tmp_path), '--out', str(tmp_path / 'out2'), '--structures', 'LIVER'])


def make_ivdm3seg(root, cases=('01', '02', '03'), bad_image=None):
    rng = np.random.default_rng(0)
    for case in cases:
        (root / case).mkdir(parents=True)
        lab = np.zeros((8, 8, 4), np.uint8)
        lab[2:5, 3:6, 1:3] = 1
        save_nifti(str(root / case / f'{case}_Labels.nii'), lab, (1.25, 1.25, 2.0))
        for m in ('inn', 'wat'):
            img = rng.normal(size=(8, 8, 4)).astype(np.float32)
            if (case, m) == bad_image:
                img[1, 2, 3] = np.nan
            save_nifti(str(root / case / f'{case}_{m}.nii'), img, (1.25, 1.25, 2.0))


@pytest.mark.parametrize('num_test', ['3', '4', '-1'])
def test_num_test_must_leave_training_cases(tmp_path, num_test):
    """--num-test 4 of 3 cases (or -1) was accepted: every case, or none, went to test."""
    make_ivdm3seg(tmp_path / 'ivd')
    with pytest.raises(ValueError, match=rf'--num-test {num_test} must be >= 0 and smaller than the 3 cases of '):
        load().main(['ivdm3seg', str(tmp_path / 'ivd'), '--out', str(tmp_path / 'out'), '--num-test', num_test])
    assert sorted(os.listdir(tmp_path)) == ['ivd']


def test_failed_conversion_leaves_nothing(tmp_path):
    """The last case's image has a NaN voxel: the earlier cases were written to --out, and stayed there."""
    make_ivdm3seg(tmp_path / 'ivd', bad_image=('03', 'inn'))
    out = tmp_path / 'new' / 'deeper' / 'out'
    with pytest.raises(ValueError, match=r'03_inn\.nii: 1 of 256 voxels are not finite \(1 NaN, 0 inf\)'):
        load().main(['ivdm3seg', str(tmp_path / 'ivd'), '--out', str(out), '--domains', 'wat', 'inn'])
    assert sorted(os.listdir(tmp_path)) == ['ivd']               # no partial folder, no parent made for it
    (tmp_path / 'ivd' / '03' / '03_inn.nii').unlink()
    save_nifti(str(tmp_path / 'ivd' / '03' / '03_inn.nii'), np.zeros((8, 8, 4), np.float32), (1.25, 1.25, 2.0))
    out.mkdir(parents=True)                                        # an empty --out is fine
    load().main(['ivdm3seg', str(tmp_path / 'ivd'), '--out', str(out), '--domains', 'wat', 'inn'])
    assert sorted(os.listdir(out)) == ['inn', 'wat'] and os.listdir(out.parent) == ['out']
    assert len(os.listdir(out / 'inn' / 'train' / 'images')) == 3
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o777 & ~_umask())   # not mkdtemp's 0o700


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def corners(x0, x1, y0, y1, z, spacing=(0.7, 0.8, 2.5), origin=(-10.0, -20.0, 30.0)):
    """Contour (mm) around voxels x0..x1, y0..y1 of slice z of write_ct_series' axis-aligned grid."""
    pts = [(x0 - .5, y0 - .5, z), (x1 + .5, y0 - .5, z), (x1 + .5, y1 + .5, z), (x0 - .5, y1 + .5, z)]
    return np.asarray(origin) + np.asarray(spacing) * np.asarray(pts)


def test_nsclc_dicom_rtstruct_seg_and_nifti(tmp_path):
    root = tmp_path / 'NSCLC'
    rng = np.random.default_rng(0)
    hu = {p: rng.integers(-1000, 1000, (10, 8, 4)) for p in ('LUNG1-001', 'LUNG1-002')}
    write_ct_series(str(root / 'LUNG1-001' / 'study' / '1-CT'), hu['LUNG1-001'], series_uid='1.2.3.1')
    (root / 'LUNG1-001' / 'study' / '2-RTSTRUCT').mkdir()
    write_rtstruct(str(root / 'LUNG1-001' / 'study' / '2-RTSTRUCT' / '1-1.dcm'),
                   {'Heart': [corners(0, 9, 0, 7, 0)], 'GTV-1': [corners(2, 5, 1, 4, 1), corners(3, 4, 2, 3, 2)]})
    write_ct_series(str(root / 'LUNG1-002' / 'ct'), hu['LUNG1-002'], series_uid='1.2.3.2')
    tumour = np.zeros((10, 8), np.uint8)
    tumour[4:7, 2:5] = 1
    write_seg(str(root / 'LUNG1-002' / 'seg.dcm'), [tumour, 1 - tumour], [(-10.0, -20.0, 35.0)] * 2, [1, 2])
    (root / 'LUNG1-003').mkdir()
    label = np.zeros((6, 6, 3), np.int16)
    label[1:3, 1:4, 1] = 2
    save_nifti(str(root / 'LUNG1-003' / 'image.nii.gz'), np.full((6, 6, 3), -500.0, np.float32), (1.0, 1.0, 3.0))
    save_nifti(str(root / 'LUNG1-003' / 'label.nii'), label, (1.0, 1.0, 3.0))
    out = tmp_path / 'out'
    load().main(['nsclc', str(root), '--out', str(out)])
    folder = out / 'ct' / 'train'
    assert sorted(os.listdir(folder / 'labels')) == [f'ct_LUNG1-00{i}.nii.gz' for i in (1, 2, 3)]
    img, spacing = load_nifti(str(folder / 'images' / 'ct_LUNG1-001.nii.gz'))
    np.testing.assert_array_equal(img, hu['LUNG1-001'])
    assert spacing == pytest.approx((0.7, 0.8, 2.5))
    lab = load_nifti(str(folder / 'labels' / 'ct_LUNG1-001.nii.gz'))[0]
    expected = np.zeros((10, 8, 4), np.uint8)
    expected[2:6, 1:5, 1] = expected[3:5, 2:4, 2] = 1                     # GTV-1 only, not Heart
    np.testing.assert_array_equal(lab, expected)
    lab = load_nifti(str(folder / 'labels' / 'ct_LUNG1-002.nii.gz'))[0]
    assert lab.sum() == 9 and lab[4:7, 2:5, 2].all()                      # z = 35 mm is slice 2
    lab, spacing = load_nifti(str(folder / 'labels' / 'ct_LUNG1-003.nii.gz'))
    assert lab.sum() == 6 and set(np.unique(lab)) == {0, 1} and spacing == (1.0, 1.0, 3.0)
    ds = MedicalSliceDataset(data_root=str(folder), normalize='window', window=(-1000, 400), pipeline=[],
                             metainfo=dict(classes=('background', 'tumour')))
    assert len(ds) == 4 + 4 + 3


def test_nsclc_errors_leave_nothing(tmp_path):
    root = tmp_path / 'NSCLC'
    write_ct_series(str(root / 'P1' / 'ct'), np.zeros((4, 4, 2)))
    with pytest.raises(FileNotFoundError, match=r'P1: no RTSTRUCT or SEG file next to the CT series'):
        load().main(['nsclc', str(root), '--out', str(tmp_path / 'out')])
    for name in ('a.dcm', 'b.dcm'):
        write_rtstruct(str(root / 'P1' / name), {'GTV-1': [corners(1, 2, 1, 2, 0)]})
    with pytest.raises(ValueError, match=r'P1: 2 RTSTRUCT files, expected one: .*a\.dcm.*b\.dcm'):
        load().main(['nsclc', str(root), '--out', str(tmp_path / 'out')])
    (root / 'P1' / 'b.dcm').unlink()
    with pytest.raises(ValueError, match=r"a\.dcm: no ROIName .* matches 'GTV-2'; available: \['GTV-1'\]"):
        load().main(['nsclc', str(root), '--out', str(tmp_path / 'out'), '--roi', 'GTV-2'])
    write_ct_series(str(root / 'P1' / 'ct2'), np.zeros((4, 4, 2)), series_uid='1.2.3.77')
    with pytest.raises(ValueError, match=r'P1: expected one CT series .*found 2'):
        load().main(['nsclc', str(root), '--out', str(tmp_path / 'out')])
    assert sorted(os.listdir(tmp_path)) == ['NSCLC']


def test_t2mr_layout(tmp_path):
    root = tmp_path / 'mr'
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    for i, case in enumerate(('a', 'b', 'c', 'd')):
        save_nifti(str(root / 'images' / f'{case}.nii{".gz" if i % 2 else ""}'), np.full((5, 4, 3), 10.0 * i),
                   (2.0, 2.0, 4.0))
        if case != 'd':
            lab = np.zeros((5, 4, 3), np.uint8)
            lab[1:3, 1:3, i] = 255
            save_nifti(str(root / 'labels' / f'{case}.nii.gz'), lab, (2.0, 2.0, 4.0))
    out = tmp_path / 'out'
    load().main(['t2mr', str(root), '--out', str(out), '--num-test', '1'])
    listing = {sub: sorted(os.listdir(out / 'mr' / sub)) for sub in ('train/images', 'train/labels', 'test/labels',
                                                                      'unlabelled/images')}
    assert listing == {'train/images': ['mr_a.nii.gz', 'mr_b.nii.gz'], 'train/labels': ['mr_a.nii.gz', 'mr_b.nii.gz'],
                       'test/labels': ['mr_c.nii.gz'], 'unlabelled/images': ['mr_d.nii.gz']}
    assert not (out / 'mr' / 'unlabelled' / 'labels').exists()
    lab, spacing = load_nifti(str(out / 'mr' / 'test' / 'labels' / 'mr_c.nii.gz'))
    assert lab.sum() == 4 and lab[1:3, 1:3, 2].all() and spacing == (2.0, 2.0, 4.0)
    assert np.all(load_nifti(str(out / 'mr' / 'unlabelled' / 'images' / 'mr_d.nii.gz'))[0] == 30.0)
    with pytest.raises(ValueError, match='--num-test 3 must be >= 0 and smaller than the 3 cases of the labelled'):
        load().main(['t2mr', str(root), '--out', str(tmp_path / 'out2'), '--num-test', '3'])
