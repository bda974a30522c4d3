import json

import numpy as np
import pytest

from tests.script_loader import load_script
from visiondiv.datasets import save_nifti


def load():
    return load_script('tools', 'sfda', 'estimate_prior.py')


@pytest.fixture
def label_dir(tmp_path):
    # one volume (x, y, z) = (4, 4, 2): slice 0 has 4 px of class 1 and 2 of class 2, slice 1 is empty
    lab = np.zeros((4, 4, 2), np.uint8)
    lab[0, :, 0] = 1
    lab[1, :2, 0] = 2
    save_nifti(str(tmp_path / 'case_000.nii.gz'), lab, (1, 1, 1))
    return str(tmp_path)


def test_prior_over_present_and_all_slices(label_dir):
    mod = load()
    # present: class 1 = 4/16 and class 2 = 2/16 on the one slice that has them
    assert mod.prior_from_labels(label_dir, 3) == pytest.approx([1 - 6 / 16, 4 / 16, 2 / 16])
    # all: averaged with the empty slice
    assert mod.prior_from_labels(label_dir, 3, over='all') == pytest.approx([1 - 3 / 16, 2 / 16, 1 / 16])
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 2\)'):
        mod.prior_from_labels(label_dir, 2)


def test_bounds_from_labels_and_cli(label_dir, capsys):
    mod = load()
    # ratios per slice: class 0 in {10/16, 1}, class 1 in {4/16, 0}, class 2 in {2/16, 0}; no margin
    np.testing.assert_allclose(mod.bounds_from_labels(label_dir, 3, margin=0.0),
                               [[10 / 16, 1.0], [0.0, 4 / 16], [0.0, 2 / 16]], atol=1e-6)
    # margin 0.5 widens each range by half of it: class 0 by 3/16, class 1 by 2/16, class 2 by 1/16
    mod.main(['bounds', '--from-labels', label_dir, '--num-classes', '3', '--margin', '0.5'])
    out = json.loads(capsys.readouterr().out)
    assert out['type'] == 'ClassRatioBoundLoss'
    np.testing.assert_allclose(out['bounds'], [[10 / 16 - 3 / 16, 1.0], [0.0, 6 / 16], [0.0, 3 / 16]], atol=1e-6)
    with pytest.raises(SystemExit, match='no ratio vector summing to 1'):
        mod.main(['bounds', '--low', '0.6', '0.6', '--high', '0.9', '0.9'])
    with pytest.raises(SystemExit, match='sum to 1'):
        mod.main(['vector', '0.5', '0.6'])


@pytest.mark.parametrize('values', [['nan', '0.5', '0.5'], ['inf', '0.5', '0.5'], ['1.2', '-0.2']])
def test_vector_refuses_non_finite_and_negative_priors(values, capsys):
    """``vector nan 0.5 0.5`` exited 0 printing ``{"prior": [NaN, 0.5, 0.5]}``, which is not JSON."""
    with pytest.raises(SystemExit, match='error: prior has (non-finite|negative) entries') as err:
        load().main(['vector', *values])
    assert err.value.code != 0 and capsys.readouterr().out == ''


def test_vector_prints_the_values_given(capsys):
    load().main(['vector', '0.9', '0.08', '0.02'])
    assert json.loads(capsys.readouterr().out) == {'prior': [0.9, 0.08, 0.02]}


def test_num_classes_must_match_the_labels(label_dir, capsys):
    """3-class labels with --num-classes 5 gave a prior padded with two zeros."""
    mod = load()
    with pytest.raises(SystemExit, match=r'--num-classes is 5 but the 1 label volumes hold classes \[0, 1, 2\]; '
                                         r'class\(es\) \[3, 4\] never occur'):
        mod.main(['from_labels', label_dir, '--num-classes', '5'])
    with pytest.raises(SystemExit, match=r'class\(es\) \[3\] never occur'):
        mod.main(['bounds', '--from-labels', label_dir, '--num-classes', '4'])
    with pytest.raises(ValueError, match=r'class\(es\) \[3\] never occur'):
        mod.prior_from_labels(label_dir, 4, over='all')
    assert capsys.readouterr().out == ''
    mod.main(['from_labels', label_dir, '--num-classes', '3'])
    assert json.loads(capsys.readouterr().out)['prior'] == pytest.approx([1 - 6 / 16, 4 / 16, 2 / 16])
