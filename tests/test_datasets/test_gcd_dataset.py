import json

import numpy as np
import pytest
from mmengine.dataset import BaseDataset

from visiondiv.datasets import load_gcd_split
from visiondiv.datasets.gcd_dataset import GCDDataset as _GCDDataset
from visiondiv.registry import DATASETS

CLASSES = ('a', 'b', 'c', 'd', 'e')
# samples per base class: 27 samples of the known classes {b, d} below (13.5 at ratio 0.5: floor 13, round 14)
COUNTS = (6, 12, 5, 15, 4)


class ToyDataset(BaseDataset):
    """In-memory base dataset: sample i is a 2x2x1 image filled with i, classes interleaved."""

    METAINFO = dict(classes=CLASSES)

    def __init__(self, labels=None, **kwargs):
        if labels is None:
            labels = np.concatenate([np.full(n, c) for c, n in enumerate(COUNTS)])
            labels = labels[np.random.default_rng(0).permutation(len(labels))]
        self.labels = list(labels)
        super().__init__(**dict(dict(serialize_data=False), **kwargs))   # mmengine's gc.collect() is slow

    def load_data_list(self):
        return [dict(img=np.full((2, 2, 1), i, np.uint8), gt_label=label) for i, label in enumerate(self.labels)]


def GCDDataset(*args, **kwargs):
    """The wrapper, unserialized unless asked (mmengine's serialization runs a slow gc.collect())."""
    return _GCDDataset(*args, **dict(dict(serialize_data=False), **kwargs))


def base_labels(base):
    return np.array([base.get_data_info(i)['gt_label'] for i in range(len(base))])


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


def test_known_classes_first_then_novel_in_base_order():
    base = ToyDataset()
    ds = GCDDataset(base, known_classes=['d', 'b'])
    assert ds.metainfo['classes'] == ('d', 'b', 'a', 'c', 'e')
    assert ds.metainfo['num_known_classes'] == ds.num_known_classes == 2
    assert ds.metainfo['known_classes'] == ds.known_classes == ('d', 'b')
    expected = {3: 0, 1: 1, 0: 2, 2: 3, 4: 4}      # base class -> remapped label, written out by hand
    labels = base_labels(base)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['gt_label'] == expected[labels[info['base_idx']]]
        assert info['old'] == (labels[info['base_idx']] in (1, 3)) == (info['gt_label'] < 2)
        assert info['sample_idx'] == i
        np.testing.assert_array_equal(info['img'], np.full((2, 2, 1), info['base_idx'], np.uint8))
    # an int N: the first N classes; indices as well as names
    assert GCDDataset(ToyDataset(), known_classes=2).metainfo['classes'] == CLASSES
    assert GCDDataset(ToyDataset(), known_classes=[3, 'b']).known_classes == ('d', 'b')


def test_labelled_count_is_floor_and_the_set_is_simgcds():
    base = ToyDataset()
    ds = GCDDataset(base, known_classes=['b', 'd'], labelled_ratio=0.5, seed=0)
    labels = base_labels(base)
    known_idx = np.flatnonzero(np.isin(labels, (1, 3)))
    assert len(known_idx) == 27
    lab = [ds.get_data_info(i)['base_idx'] for i in range(len(ds)) if ds.get_data_info(i)['labelled']]
    assert len(lab) == 13                            # int(0.5 * 27), not round(13.5) = 14
    # SimGCD's data_utils.subsample_instances on the known-class samples, run with numpy's global generator
    state = np.random.get_state()
    try:
        np.random.seed(0)
        simgcd = np.random.choice(range(len(known_idx)), replace=False, size=(int(0.5 * len(known_idx)),))
    finally:
        np.random.set_state(state)
    assert lab == sorted(known_idx[simgcd].tolist())


def test_subsets_partition_the_samples_labelled_first():
    base = ToyDataset()
    train = GCDDataset(base, known_classes=2, labelled_ratio=0.6, seed=3)
    lab = GCDDataset(base, known_classes=2, labelled_ratio=0.6, seed=3, subset='labelled')
    unlab = GCDDataset(base, known_classes=2, labelled_ratio=0.6, seed=3, subset='unlabelled')
    ids = {name: [d.get_data_info(i)['base_idx'] for i in range(len(d))]
           for name, d in (('train', train), ('lab', lab), ('unlab', unlab))}
    n_known = COUNTS[0] + COUNTS[1]
    assert len(ids['lab']) == int(0.6 * n_known) == 10
    assert ids['train'] == ids['lab'] + ids['unlab']
    assert sorted(ids['train']) == list(range(sum(COUNTS)))
    assert ids['lab'] == sorted(ids['lab']) and ids['unlab'] == sorted(ids['unlab'])
    np.testing.assert_array_equal(train.labelled_flags, np.arange(len(train)) < 10)
    assert lab.labelled_flags.all() and not unlab.labelled_flags.any()
    labels = base_labels(base)
    assert all(labels[i] < 2 for i in ids['lab'])
    # every novel sample is unlabelled, and known-class samples are there too ("old" but unlabelled)
    unlab_labels = labels[ids['unlab']]
    np.testing.assert_array_equal(np.bincount(unlab_labels, minlength=5),
                                  np.array(COUNTS) - np.bincount(labels[ids['lab']], minlength=5))
    assert [unlab.get_data_info(i)['old'] for i in range(len(unlab))] == (unlab_labels < 2).tolist()


def test_seed_determines_the_labelled_set():
    def labelled(seed):
        ds = GCDDataset(ToyDataset(), known_classes=3, labelled_ratio=0.5, seed=seed, subset='labelled')
        return [ds.get_data_info(i)['base_idx'] for i in range(len(ds))]
    assert labelled(1) == labelled(1)
    assert labelled(1) != labelled(2)


def test_indices_pipeline_and_flags_follow_the_wrapper():
    ds = GCDDataset(ToyDataset(), known_classes=2, labelled_ratio=0.5, indices=[0, 20, 41],
                    pipeline=[dict(type='PackGCDInputs')], serialize_data=True)
    full = GCDDataset(ToyDataset(), known_classes=2, labelled_ratio=0.5)
    assert len(ds) == 3
    np.testing.assert_array_equal(ds.labelled_flags, full.labelled_flags[[0, 20, 41]])
    out = ds[1]
    assert out['inputs'].shape == (1, 1, 2, 2)
    assert out['data_samples'].sample_idx == 1
    assert out['data_samples'].base_idx == full.get_data_info(20)['base_idx']
    assert int(out['data_samples'].gt_label) == full.get_data_info(20)['gt_label']
    lazy = GCDDataset(ToyDataset(), known_classes=2, lazy_init=True)
    np.testing.assert_array_equal(lazy.labelled_flags, full.labelled_flags)   # the property initialises


def test_split_file_lists_labelled_samples(tmp_path):
    base = ToyDataset()
    labels = base_labels(base)
    lab = np.flatnonzero(labels == 3)[:4].tolist() + np.flatnonzero(labels == 1)[:2].tolist()
    path = write_json(tmp_path / 'split.json', dict(known_classes=['d', 1], unknown_classes=[0, 'c', 4],
                                                    labelled=lab))
    ds = GCDDataset(base, split_file=path, subset='labelled')
    assert ds.known_classes == ('d', 'b')
    assert [ds.get_data_info(i)['base_idx'] for i in range(len(ds))] == sorted(lab)
    # the same known classes given twice agree
    assert len(GCDDataset(base, known_classes=[3, 1], split_file=path)) == len(base)


def test_split_file_ssb_format(tmp_path):
    path = write_json(tmp_path / 'ssb.json', dict(known_classes=[4, 0],
                                                  unknown_classes=dict(Easy=[1], Medium=[3], Hard=[2])))
    split = load_gcd_split(path, CLASSES)
    assert split == dict(known_classes=[4, 0], unknown_classes=[1, 3, 2], labelled=None)
    ds = GCDDataset(ToyDataset(), split_file=path)
    assert ds.metainfo['classes'] == ('e', 'a', 'b', 'c', 'd')
    assert ds.labelled_flags.sum() == int(0.5 * (COUNTS[4] + COUNTS[0]))


def test_labelled_sample_of_a_novel_class_is_refused(tmp_path):
    base = ToyDataset()
    sample = int(np.flatnonzero(base_labels(base) == 2)[0])
    path = write_json(tmp_path / 'bad.json', dict(known_classes=[0, 1], labelled=[sample]))
    with pytest.raises(ValueError, match=rf"labelled sample {sample} of split file {path} has class 2 \('c'\), "
                                         r"which is not a known class \(known: \['a', 'b'\]\)"):
        GCDDataset(base, split_file=path)


@pytest.mark.parametrize('content, message', [
    (dict(unknown_classes=[1]), r"missing key 'known_classes'"),
    (dict(known_classes=[0], extra=1), r"unknown key\(s\) \['extra'\]"),
    (dict(known_classes=['z']), r"key 'known_classes': unknown class name 'z'"),
    (dict(known_classes=[0, 5]), r"key 'known_classes': class index 5 is out of range \[0, 5\)"),
    (dict(known_classes=[0, 'a']), r"class 0 \('a'\) is listed twice"),
    (dict(known_classes=[0, 1], unknown_classes=[2, 3]), r"class\(es\) \[\(4, 'e'\)\] are neither known nor unknown"),
    (dict(known_classes=[0, 1], unknown_classes=dict(Easy=[1, 2, 3, 4])), r"\[\(1, 'b'\)\] are also known"),
    (dict(known_classes=[0], labelled=[1, 1]), r"sample 1 is listed twice in 'labelled'"),
    (dict(known_classes=[0], labelled=[99]), r'labelled sample 99 of split file .* is out of range'),
    ([0, 1], r'the top level must be an object'),
])
def test_bad_split_files_name_file_and_key(tmp_path, content, message):
    path = write_json(tmp_path / 'split.json', content)
    with pytest.raises(ValueError, match=message) as err:
        GCDDataset(ToyDataset(), split_file=path)
    assert path in str(err.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"known_classes: unknown class name 'z'"):
        GCDDataset(ToyDataset(), known_classes=['a', 'z'])
    with pytest.raises(ValueError, match=r'class index 7 is out of range \[0, 5\)'):
        GCDDataset(ToyDataset(), known_classes=[7])
    with pytest.raises(ValueError, match=r'6 known classes asked, the dataset has 5'):
        GCDDataset(ToyDataset(), known_classes=6)
    for ratio in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r'labelled_ratio must be in \(0, 1\]'):
            GCDDataset(ToyDataset(), known_classes=2, labelled_ratio=ratio)
    with pytest.raises(ValueError, match=r'labelled_ratio=0.05 of the 18 samples of known classes gives no'):
        GCDDataset(ToyDataset(), known_classes=2, labelled_ratio=0.05)
    with pytest.raises(ValueError, match=r"subset must be one of \('train', 'labelled', 'unlabelled'\)"):
        GCDDataset(ToyDataset(), known_classes=2, subset='test')
    with pytest.raises(ValueError, match='give known_classes or a split_file'):
        GCDDataset(ToyDataset())
    with pytest.raises(ValueError, match=r"sample 2 of ToyDataset has 'gt_label' 9; expected an int in \[0, 5\)"):
        GCDDataset(ToyDataset(labels=[0, 1, 9]), known_classes=2)


def test_disagreeing_known_classes_are_refused(tmp_path):
    path = write_json(tmp_path / 'split.json', dict(known_classes=[0, 1]))
    with pytest.raises(ValueError, match=rf'known_classes \[1, 0\] disagree with known_classes \[0, 1\] of split '
                                         rf'file {path}'):
        GCDDataset(ToyDataset(), known_classes=['b', 'a'], split_file=path)


def test_built_from_config_on_sklearn_digits():
    from sklearn.datasets import load_digits
    y = load_digits().target
    ds = DATASETS.build(dict(type='GCDDataset', dataset=dict(type='DigitsDataset'), known_classes=5,
                             labelled_ratio=0.5))
    n_known = int(np.sum(y < 5))
    assert len(ds) == len(y) == 1797
    assert int(ds.labelled_flags.sum()) == n_known // 2
    assert ds.metainfo['classes'] == tuple('0123456789')


def test_balanced_sampler_on_the_wrapper():
    from visiondiv.datasets import GCDBalancedSampler
    ds = GCDDataset(ToyDataset(), known_classes=2, labelled_ratio=0.5)       # 9 labelled of 42
    draws = np.array(list(GCDBalancedSampler(ds, seed=0)))
    flags = ds.labelled_flags
    assert flags.sum() == 9 and len(draws) == len(ds) == 42
    sampler, picks = GCDBalancedSampler(ds, seed=0), []
    for epoch in range(50):
        sampler.set_epoch(epoch)
        picks += list(sampler)
    frac = flags[picks].mean()
    assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / (50 * 42))


def test_base_classes_filled_when_loading_and_base_pipeline_refused():
    class LateClasses(ToyDataset):
        METAINFO = dict()

        def load_data_list(self):
            self._metainfo['classes'] = CLASSES       # as the file readers do (ClassificationDataset.set_classes)
            return super().load_data_list()
    ds = GCDDataset(LateClasses(lazy_init=True), known_classes=['e'])
    assert ds.metainfo['classes'] == ('e', 'a', 'b', 'c', 'd')
    with pytest.raises(ValueError, match='the base dataset ToyDataset has a pipeline, which the wrapper would not'):
        GCDDataset(ToyDataset(pipeline=[dict(type='PackGCDInputs')]), known_classes=2)
