import hashlib

import nibabel as nib
import numpy as np
import pytest

from tests.script_loader import load_script


def load():
    return load_script('tools', 'data', 'toy_shift.py')


def test_deterministic_nifti_with_spacing_and_shifted_contrast(tmp_path):
    mod = load()
    mod.generate(str(tmp_path / 'a'), num_train=3, num_test=1, shape=(6, 24, 24), seed=1)
    mod.generate(str(tmp_path / 'b'), num_train=3, num_test=1, shape=(6, 24, 24), seed=1)
    path = 'target/train/images/case_002.nii.gz'
    digest = [hashlib.md5(np.asarray(nib.load(str(tmp_path / r / path)).dataobj).tobytes()).hexdigest()
              for r in 'ab']
    assert digest[0] == digest[1]
    means = {}
    for domain in ('source', 'target'):
        img = nib.load(str(tmp_path / 'a' / domain / 'train' / 'images' / 'case_000.nii.gz'))
        lab = np.asarray(nib.load(str(tmp_path / 'a' / domain / 'train' / 'labels' / 'case_000.nii.gz')).dataobj)
        assert img.shape == (24, 24, 6) and tuple(img.header.get_zooms()) == (1.0, 1.0, 2.5)
        assert set(np.unique(lab)) <= {0, 1, 2} and (lab == 1).any()
        data = np.asarray(img.dataobj)
        means[domain] = [data[lab == c].mean() if (lab == c).any() else np.nan for c in range(3)]
    assert means['source'][0] < means['source'][1]
    # the shift: the target background is brighter than the source's
    assert means['target'][0] > means['source'][0] + 100


def test_inverted_target_preset(tmp_path):
    mod = load()
    mod.generate(str(tmp_path / 'd'), num_train=1, num_test=1, shape=(12, 40, 40), seed=0)
    mod.generate(str(tmp_path / 'i'), num_train=1, num_test=1, shape=(12, 40, 40), seed=0, target='inverted')
    means = {}
    for root in 'di':
        for domain in ('source', 'target'):
            base = tmp_path / root / domain / 'train'
            img = np.asarray(nib.load(str(base / 'images' / 'case_000.nii.gz')).dataobj)
            lab = np.asarray(nib.load(str(base / 'labels' / 'case_000.nii.gz')).dataobj)
            assert (lab == 2).any()
            means[root, domain] = [img[lab == c].mean() for c in range(3)]
    # the source domain is the same; the lesion is brighter than the organ except in the inverted target
    np.testing.assert_array_equal(means['d', 'source'], means['i', 'source'])
    for key in (('d', 'source'), ('d', 'target')):
        assert means[key][2] > means[key][1] + 100
    assert means['i', 'target'][2] < means['i', 'target'][1] - 150
    with pytest.raises(ValueError, match="target must be 'default' or 'inverted'"):
        mod.generate(str(tmp_path / 'x'), target='flipped')
