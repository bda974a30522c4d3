import cv2
import numpy as np
import pytest

from visiondiv.datasets import ImageFolderDataset
from visiondiv.datasets.image_folder import scan_image_folder


def folder_tree(root):
    """dog/{z.jpg, a.JPEG}, cat/{b.png, a.jpg, notes.txt, sub/c.PNG}, a hidden folder and a loose file."""
    for rel in ('dog/z.jpg', 'dog/a.JPEG', 'cat/b.png', 'cat/a.jpg', 'cat/notes.txt', 'cat/sub/c.PNG',
                '.ipynb_checkpoints/x.jpg', 'readme.jpg'):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b'img')


def test_image_folder_order_is_torchvision_imagefolders(tmp_path):
    folder_tree(tmp_path)
    ds = ImageFolderDataset(data_root=str(tmp_path))
    assert ds.metainfo['classes'] == ('cat', 'dog')
    got = [(ds.get_data_info(i)['img_path'], ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
    # classes sorted; per class os.walk sorted by folder, files sorted by name; extensions case-insensitive
    assert got == [(str(tmp_path / 'cat' / 'a.jpg'), 0), (str(tmp_path / 'cat' / 'b.png'), 0),
                   (str(tmp_path / 'cat' / 'sub' / 'c.PNG'), 0),
                   (str(tmp_path / 'dog' / 'a.JPEG'), 1), (str(tmp_path / 'dog' / 'z.jpg'), 1)]


def test_image_folder_classes_argument_and_prefix(tmp_path):
    folder_tree(tmp_path / 'train')
    ds = ImageFolderDataset(data_root=str(tmp_path), data_prefix=dict(img_path='train'), classes=['dog', 'cat'],
                            extensions=('.png', '.jpeg'))
    assert ds.metainfo['classes'] == ('dog', 'cat')
    assert [(ds.get_data_info(i)['img_path'], ds.get_data_info(i)['gt_label']) for i in range(len(ds))] == \
        [(str(tmp_path / 'train' / 'dog' / 'a.JPEG'), 0), (str(tmp_path / 'train' / 'cat' / 'b.png'), 1),
         (str(tmp_path / 'train' / 'cat' / 'sub' / 'c.PNG'), 1)]
    (tmp_path / 'classes.txt').write_text('dog\n\n')
    only_dog = ImageFolderDataset(data_root=str(tmp_path / 'train'), classes=str(tmp_path / 'classes.txt'))
    assert only_dog.metainfo['classes'] == ('dog',) and len(only_dog) == 2


def test_image_folder_loads_through_the_pipeline(tmp_path):
    (tmp_path / 'a').mkdir()
    cv2.imwrite(str(tmp_path / 'a' / 'x.png'), np.arange(24, dtype=np.uint8).reshape(2, 4, 3))
    ds = ImageFolderDataset(data_root=str(tmp_path), pipeline=[dict(type='LoadImageFromFile')])
    out = ds[0]
    np.testing.assert_array_equal(out['img'], np.arange(24, dtype=np.uint8).reshape(2, 4, 3))
    assert out['gt_label'] == 0


def test_image_folder_errors(tmp_path):
    folder_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no folder for class\(es\) \['bird'\] \(1 missing\)"):
        ImageFolderDataset(data_root=str(tmp_path), classes=['cat', 'bird'])
    with pytest.raises(ValueError, match="class 'cat' is listed twice"):
        scan_image_folder(str(tmp_path), ['cat', 'cat'])
    with pytest.raises(FileNotFoundError, match=r"dog: no image file \(extensions \.bmp\) for class 'dog'"):
        scan_image_folder(str(tmp_path), ['dog'], extensions=('.BMP',))
    with pytest.raises(FileNotFoundError, match=r'image folder not found: .*nowhere'):
        ImageFolderDataset(data_root=str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match=r'empty: no class sub-folder'):
        ImageFolderDataset(data_root=str(tmp_path / 'empty'))
