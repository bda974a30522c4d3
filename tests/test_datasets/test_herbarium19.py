import json

import pytest

from visiondiv.datasets import Herbarium19Dataset
from visiondiv.datasets.image_folder import scan_image_folder

CATEGORIES = [{'id': 0, 'name': 'Aciotis acuminifolia'}, {'id': 1, 'name': 'Aciotis indecora'},
              {'id': 2, 'name': 'Adelobotrys adscendens'}, {'id': 10, 'name': 'Miconia albicans'}]
# (image id, file name, category id); file names with and without the leading 'train/'
IMAGES = [(0, 'train/2/00001.jpg', 2), (1, 'train/10/00000.jpg', 10), (2, '0/00003.jpg', 0),
          (3, 'train/2/00000.jpg', 2), (4, 'train/1/00007.jpg', 1)]


def metadata(images=IMAGES, categories=CATEGORIES):
    return {'images': [{'id': i, 'file_name': f, 'height': 10, 'width': 7, 'license': 0} for i, f, _ in images],
            'annotations': [{'id': i, 'image_id': i, 'category_id': c} for i, _, c in images],
            'categories': [dict(c) for c in categories], 'licenses': [], 'info': {}}


def herbarium_tree(root, meta=None, split='train', img_dir='train'):
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / split / 'metadata.json').write_text(json.dumps(meta or metadata()))
    for _, file_name, _ in IMAGES:
        path = root / img_dir / file_name.split('/', 1)[1] if file_name.startswith('train/') \
            else root / img_dir / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'jpg')


def test_herbarium_classes_follow_imagefolders_string_order(tmp_path):
    herbarium_tree(tmp_path)
    ds = Herbarium19Dataset(data_root=str(tmp_path))
    # category folders '0', '1', '10', '2' sorted as strings, as ImageFolder (SimGCD's class splits use these indices)
    assert ds.metainfo['category_ids'] == (0, 1, 10, 2)
    assert ds.metainfo['classes'] == ('Aciotis acuminifolia', 'Aciotis indecora', 'Miconia albicans',
                                      'Adelobotrys adscendens')
    got = [(ds.get_data_info(i)['img_path'], ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
    train = tmp_path / 'train'
    assert got == [(str(train / '0' / '00003.jpg'), 0), (str(train / '1' / '00007.jpg'), 1),
                   (str(train / '10' / '00000.jpg'), 2), (str(train / '2' / '00000.jpg'), 3),
                   (str(train / '2' / '00001.jpg'), 3)]
    # the same classes and samples as the ImageFolder reading of the category folders
    classes, samples = scan_image_folder(str(train))
    assert classes == tuple(map(str, ds.metainfo['category_ids'])) and samples == got


def test_herbarium_validation_split_and_small_images(tmp_path):
    herbarium_tree(tmp_path, split='validation', img_dir='small-validation',
                   meta=metadata(images=[(5, 'validation/1/00002.jpg', 1)]))
    (tmp_path / 'small-validation' / '1' / '00002.jpg').write_bytes(b'jpg')
    ds = Herbarium19Dataset(data_root=str(tmp_path), split='validation', img_subdir='small-validation')
    assert len(ds) == 1 and ds.get_data_info(0)['gt_label'] == 1
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'small-validation' / '1' / '00002.jpg')


def broken(key, value):
    meta = metadata()
    section, index, field = key
    if field is None:
        meta[section] = value
    else:
        meta[section][index][field] = value
    return meta


@pytest.mark.parametrize('meta, match', [
    (broken(('annotations', 2, 'category_id'), 7), r'annotations\[2\]: unknown category_id 7'),
    (broken(('annotations', 2, 'image_id'), 99), r'annotations\[2\]: image_id 99 is not in images'),
    (broken(('annotations', 2, 'image_id'), 1), r'annotations\[2\]: image_id 1 has a second annotation'),
    (broken(('images', 3, 'id'), 0), r'images\[3\]: image id 0 is listed twice'),
    (broken(('categories', 1, 'id'), 0), r'categories\[1\]: category id 0 is listed twice'),
    (broken(('categories', 1, 'id'), '1'), r"categories\[1\]: 'id' must be int, got '1'"),
    (broken(('images', 0, 'file_name'), None), r"images\[0\]: 'file_name' must be str, got None"),
    (broken(('annotations', None, None), {}), r"'annotations' must be a list"),
    ({'images': [], 'annotations': []}, r"missing key 'categories'"),
    (dict(metadata(), annotations=metadata()['annotations'][:4]), r'images\[4\]: no annotation for image id 4'),
    ([1, 2], r'expected a JSON object, got list'),
])
def test_herbarium_errors_name_file_and_entry(tmp_path, meta, match):
    herbarium_tree(tmp_path)
    (tmp_path / 'train' / 'metadata.json').write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r'metadata\.json: ' + match):
        Herbarium19Dataset(data_root=str(tmp_path))


def test_herbarium_missing_files(tmp_path):
    herbarium_tree(tmp_path)
    (tmp_path / 'train' / '2' / '00000.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r'metadata\.json: images\[3\]: image not found: .*2/00000\.jpg'):
        Herbarium19Dataset(data_root=str(tmp_path))
    (tmp_path / 'train' / 'metadata.json').write_text('{"images": [')
    with pytest.raises(ValueError, match=r'metadata\.json: not valid JSON'):
        Herbarium19Dataset(data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'metadata not found: .*validation/metadata\.json'):
        Herbarium19Dataset(data_root=str(tmp_path), split='validation')
