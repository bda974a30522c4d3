import pickle

import numpy as np
import pytest

from visiondiv.datasets import CIFAR10Dataset, CIFAR100Dataset
from visiondiv.registry import DATASETS

CLASSES = ['airplane', 'automobile', 'bird']


def cifar_row(img):
    """An (32, 32, 3) RGB image as a row of the official format: 1024 R, 1024 G, 1024 B, each row-major."""
    return np.concatenate([img[..., 0].ravel(), img[..., 1].ravel(), img[..., 2].ravel()])


def dump(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f)


def images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def cifar10_tree(root):
    """Five train batches of 2 images and a test batch of 2; labels i % 3."""
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    imgs, labels = images(12), [i % 3 for i in range(12)]
    for b in range(6):
        rows = np.stack([cifar_row(im) for im in imgs[2 * b:2 * b + 2]])
        name = f'data_batch_{b + 1}' if b < 5 else 'test_batch'
        dump(folder / name, {'batch_label': name, 'labels': labels[2 * b:2 * b + 2], 'data': rows,
                             'filenames': [f'{name}_{k}.png' for k in range(2)]})
    dump(folder / 'batches.meta', {'num_cases_per_batch': 2, 'label_names': CLASSES, 'num_vis': 3072})
    return imgs, labels


def test_cifar10_samples_labels_and_splits(tmp_path):
    imgs, labels = cifar10_tree(tmp_path)
    train = CIFAR10Dataset(data_root=str(tmp_path), split='train')
    assert train.metainfo['classes'] == tuple(CLASSES) and len(train) == 10
    for i in range(10):  # the batches in order 1..5
        item = train.get_data_info(i)
        assert item['img'].dtype == np.uint8 and item['img'].shape == (32, 32, 3)
        np.testing.assert_array_equal(item['img'], imgs[i])
        assert item['gt_label'] == labels[i]
    test = DATASETS.build(dict(type='CIFAR10Dataset', data_root=str(tmp_path), split='test'))
    assert len(test) == 2 and [test.get_data_info(i)['gt_label'] for i in range(2)] == [1, 2]
    np.testing.assert_array_equal(test.get_data_info(1)['img'], imgs[11])


def test_cifar_pixel_layout(tmp_path):
    """Pixel (y, x) of the official row layout is R = y, G = x, B = 7 -> img[y, x] == (y, x, 7)."""
    cifar10_tree(tmp_path)
    yy, xx = np.mgrid[:32, :32]
    row = np.concatenate([yy.ravel(), xx.ravel(), np.full(1024, 7)]).astype(np.uint8)
    folder = tmp_path / 'cifar-10-batches-py'
    dump(folder / 'test_batch', {'labels': [0], 'data': row[None]})
    img = CIFAR10Dataset(data_root=str(tmp_path), split='test').get_data_info(0)['img']
    assert tuple(img[3, 5]) == (3, 5, 7) and tuple(img[31, 0]) == (31, 0, 7)


def test_cifar100_uses_fine_labels(tmp_path):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    imgs = images(3, seed=1)
    fine = [f'fine{i}' for i in range(5)]
    dump(folder / 'meta', {'fine_label_names': fine, 'coarse_label_names': ['c0', 'c1']})
    rows = np.stack([cifar_row(im) for im in imgs])
    dump(folder / 'train', {'data': rows[:2], 'fine_labels': [4, 2], 'coarse_labels': [1, 0], 'filenames': ['a', 'b']})
    dump(folder / 'test', {'data': rows[2:], 'fine_labels': [3], 'coarse_labels': [1], 'filenames': ['c']})
    train = CIFAR100Dataset(data_root=str(tmp_path))
    assert train.metainfo['classes'] == tuple(fine)
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [4, 2]
    np.testing.assert_array_equal(train.get_data_info(1)['img'], imgs[1])
    test = CIFAR100Dataset(data_root=str(tmp_path), split='test')
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 3


@pytest.mark.parametrize('edit, error, match', [
    (lambda f: (f / 'data_batch_3').unlink(), FileNotFoundError, r'CIFAR file not found: .*data_batch_3'),
    (lambda f: (f / 'batches.meta').unlink(), FileNotFoundError, r'batches\.meta'),
    (lambda f: dump(f / 'data_batch_1', {'data': np.zeros((2, 3072), np.uint8)}), ValueError,
     r"data_batch_1: missing key 'labels'"),
    (lambda f: dump(f / 'batches.meta', {'names': CLASSES}), ValueError, r"batches\.meta: missing key 'label_names'"),
    (lambda f: dump(f / 'data_batch_1', {'data': np.zeros((2, 32, 32, 3), np.uint8), 'labels': [0, 1]}), ValueError,
     r"data_batch_1: key 'data' must be a uint8 array of shape \(N, 3072\), got uint8 array of shape \(2, 32, 32, 3\)"),
    (lambda f: dump(f / 'data_batch_1', {'data': np.zeros((2, 3072)), 'labels': [0, 1]}), ValueError,
     r"data_batch_1: key 'data' must be a uint8 array"),
    (lambda f: dump(f / 'data_batch_2', {'data': np.zeros((2, 3072), np.uint8), 'labels': [0, 5]}), ValueError,
     r"data_batch_2: key 'labels', sample 1: unknown class id 5 \(3 classes"),
    (lambda f: dump(f / 'data_batch_2', {'data': np.zeros((2, 3072), np.uint8), 'labels': [0]}), ValueError,
     r"data_batch_2: key 'labels' has 1 labels for 2 images"),
    (lambda f: (f / 'data_batch_4').write_bytes(b'not a pickle'), ValueError,
     r'data_batch_4: not a CIFAR python pickle'),
    (lambda f: dump(f / 'data_batch_5', [1, 2]), ValueError, r'data_batch_5: expected a pickled dict, got list'),
])
def test_cifar_errors_name_file_and_key(tmp_path, edit, error, match):
    cifar10_tree(tmp_path)
    edit(tmp_path / 'cifar-10-batches-py')
    with pytest.raises(error, match=match):
        CIFAR10Dataset(data_root=str(tmp_path), split='train')


def test_cifar_split_is_checked(tmp_path):
    with pytest.raises(ValueError, match=r"CIFAR10Dataset: split must be one of \('train', 'test'\), got 'val'"):
        CIFAR10Dataset(data_root=str(tmp_path), split='val')
