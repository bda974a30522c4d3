import numpy as np
import pytest
from mmengine.dataset import ClassBalancedDataset

from visiondiv.datasets.classification import ClassificationDataset, parse_fields, parse_int, read_text_lines


class Toy(ClassificationDataset):
    """Three samples, labels 1, 0, 1; classes ('x', 'y')."""

    SPLITS = ('a', 'b')

    def load_data_list(self):
        self.set_classes(['x', 'y'], 'toy.txt')
        return [dict(gt_label=1), dict(gt_label=0), dict(gt_label=1)]


def test_read_text_lines_numbers_lines_from_one_and_skips_blank_ones(tmp_path):
    path = tmp_path / 'list.txt'
    path.write_bytes(b'a b\n\n  c  \r\n\x0cd\nlast')
    assert read_text_lines(str(path)) == [(1, 'a b'), (3, 'c'), (4, 'd'), (5, 'last')]
    with pytest.raises(FileNotFoundError, match='nope.txt not found'):
        read_text_lines(str(tmp_path / 'nope.txt'))
    path.write_bytes(b'\xff\xfe')
    with pytest.raises(ValueError, match=r'list\.txt: not a UTF-8 text file'):
        read_text_lines(str(path))


def test_parse_fields_keeps_spaces_in_the_last_field():
    assert parse_fields('1234 Boeing 717', 'f.txt', 3, ('image_id', 'variant')) == ['1234', 'Boeing 717']
    assert parse_fields('7  a/b c.jpg', 'f.txt', 3, ('id', 'path')) == ['7', 'a/b c.jpg']
    with pytest.raises(ValueError, match=r"f\.txt:3: expected 2 fields \(image_id variant\), got 1: '1234'"):
        parse_fields('1234', 'f.txt', 3, ('image_id', 'variant'))
    assert parse_int('-12', 'f.txt', 2, 'class_id') == -12
    with pytest.raises(ValueError, match=r"f\.txt:2: class_id must be an integer, got '1\.5'"):
        parse_int('1.5', 'f.txt', 2, 'class_id')


def test_labels_classes_and_class_balanced_repeats(tmp_path):
    ds = Toy(data_root=str(tmp_path), split='a')
    assert ds.metainfo['classes'] == ('x', 'y') and ds.split == 'a'
    np.testing.assert_array_equal(ds.get_gt_labels(), [1, 0, 1])
    assert ds.get_gt_labels().dtype == np.int64
    assert [ds.get_cat_ids(i) for i in range(3)] == [[1], [0], [1]]
    # mmengine's repeat factor max(1, sqrt(t / f)): class x (f = 1/3) gets ceil(sqrt(1.5)) = 2 copies, y one
    assert len(ClassBalancedDataset(ds, oversample_thr=0.5)) == 4
    # metainfo classes equal to the files' are accepted
    assert Toy(data_root=str(tmp_path), split='b', metainfo=dict(classes=('x', 'y'))).metainfo['classes'] == ('x', 'y')


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Toy: split must be one of \('a', 'b'\), got 'c'"):
        Toy(data_root=str(tmp_path), split='c')
    with pytest.raises(ValueError, match='Toy: data_root'):
        Toy(data_root='', split='a')
    with pytest.raises(ValueError, match=r'metainfo classes \(3 names\) differ from the 2 classes read from toy\.txt'):
        Toy(data_root=str(tmp_path), split='a', metainfo=dict(classes=('x', 'y', 'z')))


def test_check_image(tmp_path):
    ds = Toy(data_root=str(tmp_path), split='a')
    (tmp_path / 'here.png').write_bytes(b'')
    ds.check_image(str(tmp_path / 'here.png'), 'list.txt:1')
    with pytest.raises(FileNotFoundError, match=r'list\.txt:2: image not found: .*gone\.png'):
        ds.check_image(str(tmp_path / 'gone.png'), 'list.txt:2')
    Toy(data_root=str(tmp_path), split='a', check_images=False).check_image(str(tmp_path / 'gone.png'), 'x')
