import cv2
import numpy as np
import pytest

from visiondiv.datasets import CUB200Dataset

CLASSES = '1 001.Black_footed_Albatross\n2 002.Laysan_Albatross\n3 003.Sooty_Albatross\n'
# image 3 is a test image of class 3, image 4 a train image of class 1
IMAGES = {1: ('001.Black_footed_Albatross/a_1.png', 1, 1), 2: ('002.Laysan_Albatross/b_2.png', 2, 1),
          3: ('003.Sooty_Albatross/c_3.png', 3, 0), 4: ('001.Black_footed_Albatross/a_4.png', 1, 1)}


def cub_tree(root):
    """The official CUB_200_2011 files for IMAGES; image k is a 2x3 BGR PNG filled with value 10 * k."""
    cub = root / 'CUB_200_2011'
    for k, (rel, _, _) in IMAGES.items():
        (cub / 'images' / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(cub / 'images' / rel), np.full((2, 3, 3), 10 * k, np.uint8))
    (cub / 'classes.txt').write_text(CLASSES)
    (cub / 'images.txt').write_text(''.join(f'{k} {rel}\n' for k, (rel, _, _) in IMAGES.items()))
    (cub / 'image_class_labels.txt').write_text(''.join(f'{k} {c}\n' for k, (_, c, _) in IMAGES.items()))
    (cub / 'train_test_split.txt').write_text(''.join(f'{k} {t}\n' for k, (_, _, t) in IMAGES.items()))
    return cub


def test_cub_samples_labels_and_splits(tmp_path):
    cub = cub_tree(tmp_path)
    train = CUB200Dataset(data_root=str(tmp_path), split='train',
                          pipeline=[dict(type='LoadImageFromFile')])
    assert train.metainfo['classes'] == ('001.Black_footed_Albatross', '002.Laysan_Albatross', '003.Sooty_Albatross')
    got = [(train.get_data_info(i)['img_path'], train.get_data_info(i)['gt_label']) for i in range(len(train))]
    assert got == [(str(cub / 'images' / IMAGES[1][0]), 0), (str(cub / 'images' / IMAGES[2][0]), 1),
                   (str(cub / 'images' / IMAGES[4][0]), 0)]
    np.testing.assert_array_equal(train[1]['img'], np.full((2, 3, 3), 20, np.uint8))
    test = CUB200Dataset(data_root=str(tmp_path), split='test')
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 2
    assert test.get_data_info(0)['img_path'] == str(cub / 'images' / IMAGES[3][0])


def edit_line(path, lineno, text):
    lines = path.read_text().splitlines()
    lines[lineno - 1] = text
    path.write_text('\n'.join(lines) + '\n')


@pytest.mark.parametrize('file, lineno, text, error, match', [
    ('images.txt', 2, '2', ValueError, r'images\.txt:2: expected 2 fields \(image_id image_path\)'),
    ('images.txt', 3, 'x 003.Sooty_Albatross/c_3.png', ValueError, r"images\.txt:3: image_id must be an integer, "
                                                                    r"got 'x'"),
    ('images.txt', 4, '1 001.Black_footed_Albatross/a_4.png', ValueError, r'images\.txt:4: image_id 1 repeats line 1'),
    ('image_class_labels.txt', 2, '2 9', ValueError, r'image_class_labels\.txt:2: unknown class_id 9'),
    ('image_class_labels.txt', 2, '2 two', ValueError, r"image_class_labels\.txt:2: class_id must be an integer"),
    ('image_class_labels.txt', 4, '5 1', ValueError, r'image_class_labels\.txt: no line for image_id 4 '
                                                     r'\(.*images\.txt:4\)'),
    ('train_test_split.txt', 1, '1 2', ValueError, r'train_test_split\.txt:1: is_training_image must be 0 or 1'),
    ('classes.txt', 1, '1', ValueError, r'classes\.txt:1: expected 2 fields \(class_id class_name\)'),
])
def test_cub_errors_name_file_and_line(tmp_path, file, lineno, text, error, match):
    edit_line(cub_tree(tmp_path) / file, lineno, text)
    with pytest.raises(error, match=match):
        CUB200Dataset(data_root=str(tmp_path), split='train')


def test_cub_missing_files(tmp_path):
    cub = cub_tree(tmp_path)
    (cub / 'images' / IMAGES[2][0]).unlink()
    with pytest.raises(FileNotFoundError, match=r'images\.txt:2: image not found: .*b_2\.png'):
        CUB200Dataset(data_root=str(tmp_path), split='train')
    assert len(CUB200Dataset(data_root=str(tmp_path), split='train', check_images=False)) == 3
    (cub / 'train_test_split.txt').unlink()
    with pytest.raises(FileNotFoundError, match=r'train_test_split\.txt not found'):
        CUB200Dataset(data_root=str(tmp_path), split='test')
