import os

import numpy as np
import pytest

from tests.script_loader import load_script
from visiondiv.datasets import MedicalSliceDataset, load_nifti, read_metaimage, save_nifti


def load():
    return load_script('tools', 'data', 'medical', 'convert.py')


def write_mhd(path, vol_xyz, spacing, element='MET_SHORT', dtype='<i2', msb=False):
    raw = os.path.basename(path)[:-4] + '.raw'
    with open(path, 'w') as f:
        f.write(f'ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = {msb}\n'
                f'CompressedData = False\nElementSpacing = {" ".join(map(str, spacing))}\n'
                f'DimSize = {" ".join(map(str, vol_xyz.shape))}\nElementType = {element}\nElementDataFile = {raw}\n')
    # MetaImage: x varies fastest
    np.ascontiguousarray(vol_xyz.transpose(2, 1, 0)).astype(dtype).tofile(os.path.join(os.path.dirname(path), raw))


def test_read_metaimage_axis_order_spacing_and_errors(tmp_path):
    vol = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)        # (x, y, z)
    write_mhd(str(tmp_path / 'a.mhd'), vol, (0.5, 0.6, 3.0))
    got, spacing = read_metaimage(str(tmp_path / 'a.mhd'))
    np.testing.assert_array_equal(got, vol)
    assert spacing == (0.5, 0.6, 3.0)
    write_mhd(str(tmp_path / 'b.mhd'), vol, (1, 1, 1), dtype='>i2', msb=True)
    np.testing.assert_array_equal(read_metaimage(str(tmp_path / 'b.mhd'))[0], vol)
    (tmp_path / 'c.mhd').write_text('NDims = 3\nDimSize = 2 3 4\nElementDataFile = c.raw\n')
    with pytest.raises(ValueError, match=r"c\.mhd: MetaImage header has no 'ElementType' field"):
        read_metaimage(str(tmp_path / 'c.mhd'))
    with pytest.raises(FileNotFoundError, match='missing.mhd'):
        read_metaimage(str(tmp_path / 'missing.mhd'))


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
        write_mhd(str(part / f'Case{case}_segmentation.mhd'), seg, (0.6, 0.6, 3.6), 'MET_UCHAR', 'u1')
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
