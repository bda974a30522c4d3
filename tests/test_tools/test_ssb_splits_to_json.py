import json
import os
import pickle

import numpy as np
import pytest

from tests.script_loader import load_script
from visiondiv.datasets import load_gcd_split

CLASSES = tuple(f'c{i}' for i in range(8))


def load():
    return load_script('tools', 'data', 'gcd', 'ssb_splits_to_json.py')


def dump(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f)
    return str(path)


def test_ssb_pickle_to_json(tmp_path):
    # the layout of SimGCD's cub_osr_splits.pkl, with the numpy ints some of its files hold
    pkl = dump(tmp_path / 'cub_osr_splits.pkl', dict(
        known_classes=[np.int64(5), 0, 3, 6],
        unknown_classes=dict(Easy=[1], Medium=[np.int64(7), 2], Hard=[4]),
        closed_set_open_set_pairs=dict(Easy=[(0, 1)], Medium=[], Hard=[])))
    out = str(tmp_path / 'out' / 'split.json')
    load().main([pkl, out])
    with open(out) as f:
        assert json.load(f) == dict(known_classes=[5, 0, 3, 6], unknown_classes=dict(Easy=[1], Medium=[7, 2],
                                                                                       Hard=[4]))
    assert load_gcd_split(out, CLASSES) == dict(known_classes=[5, 0, 3, 6], unknown_classes=[1, 7, 2, 4],
                                                labelled=None)


def test_herbarium_old_new_pickle(tmp_path):
    pkl = dump(tmp_path / 'herbarium_19_class_splits.pkl', dict(Old=list(np.array([2, 0, 7])), New=[1, 3, 4, 5, 6]))
    out = str(tmp_path / 'h.json')
    load().main([pkl, out])
    assert load_gcd_split(out, CLASSES)['known_classes'] == [2, 0, 7]


class Evil:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize('obj, message', [
    (dict(known_classes=[0], unknown_classes=Evil()), r'refusing to load (posix|nt).getcwd'),
    ([0, 1], r'expected a dict, got list'),
    (dict(known=[0]), r"expected keys 'known_classes' and 'unknown_classes' \(SSB\) or 'Old' and 'New'"),
    (dict(known_classes=[0, 1], unknown_classes=dict(Easy=[1, 2])), r'classes \[1\] are listed twice'),
    (dict(known_classes=[0, -1], unknown_classes=dict(Easy=[2])), r"'known_classes' holds -1, not a class index"),
    (dict(known_classes=[0], unknown_classes=[1]), r"'unknown_classes' must be a dict difficulty -> classes"),
])
def test_bad_pickles_name_the_file(tmp_path, obj, message):
    pkl = dump(tmp_path / 'bad.pkl', obj)
    with pytest.raises(ValueError, match=message) as err:
        load().main([pkl, str(tmp_path / 'out.json')])
    assert pkl in str(err.value)
    assert not (tmp_path / 'out.json').exists()
