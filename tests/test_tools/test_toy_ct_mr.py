"""tools/data/toy_ct_mr.py: deterministic, unpaired CT / T2w-MR phantoms with the stated contrasts and spacing."""
import hashlib

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from tests.script_loader import load_script


def load():
    return load_script('tools', 'data', 'toy_ct_mr.py')


def read(root, rel):
    img = nib.load(str(root / rel))
    return np.asarray(img.dataobj), tuple(float(z) for z in img.header.get_zooms())


def test_layout_determinism_spacing_and_contrasts(tmp_path):
    mod = load()
    kw = dict(num_ct=3, num_mr_labelled=2, num_mr_unlabelled=1, num_mr_test=1, shape=(6, 32, 32), seed=3)
    mod.generate(str(tmp_path / 'a'), **kw)
    mod.generate(str(tmp_path / 'b'), **kw)
    rel = 'mr/train/images/mr_001.nii.gz'
    assert hashlib.md5(read(tmp_path / 'a', rel)[0].tobytes()).digest() == \
        hashlib.md5(read(tmp_path / 'b', rel)[0].tobytes()).digest()
    assert (tmp_path / 'a/mr/unlabelled/images/mr_000.nii.gz').exists()
    assert not (tmp_path / 'a/mr/unlabelled/labels').exists()
    ct, spacing = read(tmp_path / 'a', 'ct/train/images/ct_000.nii.gz')
    ct_lab, _ = read(tmp_path / 'a', 'ct/train/labels/ct_000.nii.gz')
    mr, mr_spacing = read(tmp_path / 'a', 'mr/train/images/mr_000.nii.gz')
    mr_lab, _ = read(tmp_path / 'a', 'mr/train/labels/mr_000.nii.gz')
    assert ct.shape == mr.shape == (32, 32, 6) and spacing == mr_spacing == mod.SPACING
    assert set(np.unique(ct_lab)) == {0, 1} and set(np.unique(mr_lab)) == {0, 1}
    # CT in HU, away from the edges that the smoothing mixes with the lung: the tumour has soft-tissue HU
    # (35; noise 15 HU and texture 10 HU per voxel), air -1000
    inside = ndimage.binary_erosion(ct_lab == 1, np.ones((3, 3, 1)))
    assert inside.sum() >= 4
    assert ct[inside].mean() == pytest.approx(mod.LEVELS['ct']['tumour'], abs=15)
    assert ct[0, 0, :].mean() == pytest.approx(-1000, abs=15)
    # T2w MR: the tumour level (680) times a bias field within exp(+-0.3); Rician magnitudes are >= 0
    inside = ndimage.binary_erosion(mr_lab == 1, np.ones((3, 3, 1)))
    level = mod.LEVELS['mr']['tumour']
    assert level * np.exp(-0.35) < mr[inside].mean() < level * np.exp(0.35) and mr.min() >= 0
    # unpaired: the MR subjects are not the CT subjects (different tumour masks)
    assert not np.array_equal(ct_lab, mr_lab)


def test_at_most_six_labelled_mr(tmp_path):
    with pytest.raises(ValueError, match=r'--mr-labelled must be in \[1, 6\]'):
        load().generate(str(tmp_path), num_mr_labelled=7)
