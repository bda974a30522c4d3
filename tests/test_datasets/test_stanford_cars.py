import numpy as np
import pytest
from scipy import io as sio

from visiondiv.datasets import StanfordCarsDataset

CLASSES = ['AM General Hummer SUV 2000', 'Acura RL Sedan 2012', 'Acura TL Sedan 2012']


def annotations(records, with_class=True):
    """The devkit's ``annotations`` struct array (1, N): bbox_x1..bbox_y2, class (uint8, 1-based), fname."""
    names = ['bbox_x1', 'bbox_y1', 'bbox_x2', 'bbox_y2'] + (['class'] if with_class else []) + ['fname']
    arr = np.zeros((1, len(records)), dtype=[(n, 'O') for n in names])
    for i, (cls, fname) in enumerate(records):
        arr[0, i] = (np.uint8(1), np.uint8(2), np.uint8(30), np.uint8(40)) + ((cls,) if with_class else ()) + (fname,)
    return arr


def cars_tree(root, train=((np.uint8(3), '00001.jpg'), (np.uint8(1), '00002.jpg')),
              test=((np.uint8(2), '00001.jpg'),)):
    (root / 'devkit').mkdir()
    names = np.empty((1, len(CLASSES)), dtype=object)
    names[0, :] = CLASSES
    sio.savemat(root / 'devkit' / 'cars_meta.mat', {'class_names': names})
    sio.savemat(root / 'devkit' / 'cars_train_annos.mat', {'annotations': annotations(train)})
    sio.savemat(root / 'cars_test_annos_withlabels.mat', {'annotations': annotations(test)})
    for folder, records in (('cars_train', train), ('cars_test', test)):
        (root / folder).mkdir()
        for _, fname in records:
            (root / folder / fname).write_bytes(b'jpg')


def test_cars_samples_labels_and_splits(tmp_path):
    cars_tree(tmp_path)
    train = StanfordCarsDataset(data_root=str(tmp_path), split='train')
    assert train.metainfo['classes'] == tuple(CLASSES)
    assert [(train.get_data_info(i)['img_path'], train.get_data_info(i)['gt_label']) for i in range(2)] == \
        [(str(tmp_path / 'cars_train' / '00001.jpg'), 2), (str(tmp_path / 'cars_train' / '00002.jpg'), 0)]
    test = StanfordCarsDataset(data_root=str(tmp_path), split='test')
    assert len(test) == 1
    assert (test.get_data_info(0)['img_path'], test.get_data_info(0)['gt_label']) == \
        (str(tmp_path / 'cars_test' / '00001.jpg'), 1)


def test_cars_matlab_double_class_and_other_ann_file(tmp_path):
    cars_tree(tmp_path)
    sio.savemat(tmp_path / 'devkit' / 'test_withlabels.mat', {'annotations': annotations([(2.0, '00001.jpg')])})
    test = StanfordCarsDataset(data_root=str(tmp_path), split='test', ann_file='devkit/test_withlabels.mat')
    assert test.get_data_info(0)['gt_label'] == 1


@pytest.mark.parametrize('records, match', [
    ([(np.uint8(4), '00001.jpg')], r'annotations\[0\]: unknown class id 4 \(3 classes in .*cars_meta\.mat\)'),
    ([(np.uint8(1), '00001.jpg'), (np.uint8(0), '00002.jpg')], r'annotations\[1\]: unknown class id 0'),
    ([(2.5, '00001.jpg')], r'annotations\[0\]: unknown class id 2\.5'),
    ([(np.uint8(1), np.array([], dtype='<U1'))], r'annotations\[0\]\.fname must hold one value, got shape \(0,\)'),
])
def test_cars_bad_records_name_file_and_record(tmp_path, records, match):
    cars_tree(tmp_path)
    sio.savemat(tmp_path / 'devkit' / 'cars_train_annos.mat', {'annotations': annotations(records)})
    with pytest.raises(ValueError, match=r'cars_train_annos\.mat: ' + match):
        StanfordCarsDataset(data_root=str(tmp_path), split='train', check_images=False)


def test_cars_file_errors(tmp_path):
    cars_tree(tmp_path)
    sio.savemat(tmp_path / 'cars_test_annos_withlabels.mat',
                {'annotations': annotations([(None, '00001.jpg')], with_class=False)})
    with pytest.raises(ValueError, match=r"cars_test_annos_withlabels\.mat: 'annotations' has no field 'class'"):
        StanfordCarsDataset(data_root=str(tmp_path), split='test')
    sio.savemat(tmp_path / 'devkit' / 'cars_meta.mat', {'names': np.zeros(3)})
    with pytest.raises(ValueError, match=r"cars_meta\.mat: missing variable 'class_names'"):
        StanfordCarsDataset(data_root=str(tmp_path), split='train')
    (tmp_path / 'devkit' / 'cars_meta.mat').write_bytes(b'garbage')
    with pytest.raises(ValueError, match=r'cars_meta\.mat: not a readable MATLAB file'):
        StanfordCarsDataset(data_root=str(tmp_path), split='train')
    (tmp_path / 'devkit' / 'cars_meta.mat').unlink()
    with pytest.raises(FileNotFoundError, match=r'annotation file not found: .*cars_meta\.mat'):
        StanfordCarsDataset(data_root=str(tmp_path), split='train')


def test_cars_missing_image(tmp_path):
    cars_tree(tmp_path)
    (tmp_path / 'cars_train' / '00002.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r'cars_train_annos\.mat: annotations\[1\]: image not found: '
                                                r'.*cars_train/00002\.jpg'):
        StanfordCarsDataset(data_root=str(tmp_path), split='train')
