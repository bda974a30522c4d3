import contextlib
import logging
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from visiondiv.datasets import DOTAFormatError
from visiondiv.registry import DATASETS

CLASSES = ('ship', 'tank', 'plane')


def write(tmp_path, files):
    (tmp_path / 'ann').mkdir(exist_ok=True)
    (tmp_path / 'img').mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / 'ann' / f'{name}.txt').write_text(text)
        cv2.imwrite(str(tmp_path / 'img' / f'{name}.png'), np.zeros((32, 32, 3), np.uint8))


def build(tmp_path, **kw):
    return DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), ann_file='ann/',
                               data_prefix=dict(img_path='img/'), metainfo=dict(classes=CLASSES),
                               pipeline=[], lazy_init=False, **kw))


def test_parse_valid_files(tmp_path):
    write(tmp_path, {
        'P0001': 'imagesource:GoogleEarth\ngsd:0.1\n1 2 3 4 5 6 7 8 ship 0\n10 10 20 10 20 20 10 20 plane 2\n',
        'P0002': '',                     # an image without objects
    })
    ds = build(tmp_path, diff_thr=1)
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_id'] == 'P0001' and info['img_path'].endswith(osp.join('img', 'P0001.png'))
    assert [i['bbox_label'] for i in info['instances']] == [0, 2]
    assert info['instances'][0]['bbox'] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [i['ignore_flag'] for i in info['instances']] == [0, 1]     # difficulty 2 > diff_thr 1
    # filter_empty_gt drops the empty image
    assert len(build(tmp_path, diff_thr=1, filter_cfg=dict(filter_empty_gt=True))) == 1


def test_filter_empty_gt_keeps_an_image_of_ignored_objects(tmp_path):
    # mmrotate's rule: only an image with no object at all is dropped; one whose objects are all
    # ignored (difficulty above diff_thr) stays, as a background image
    write(tmp_path, {
        'P0010': '1 2 3 4 5 6 7 8 ship 2\n10 10 20 10 20 20 10 20 plane 3\n',   # both ignored
        'P0011': '',                                                              # no object
        'P0012': '1 2 3 4 5 6 7 8 tank 0\n',
    })
    ds = build(tmp_path, diff_thr=1, filter_cfg=dict(filter_empty_gt=True))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['P0010', 'P0012']
    assert [i['ignore_flag'] for i in ds.get_data_info(0)['instances']] == [1, 1]
    # without filter_empty_gt, or in test mode, nothing is dropped
    assert len(build(tmp_path, diff_thr=1)) == 3
    assert len(build(tmp_path, diff_thr=1, filter_cfg=dict(filter_empty_gt=True), test_mode=True)) == 3
    # DOTA annotations give no image size: min_size is refused, not ignored
    with pytest.raises(ValueError, match='min_size=32'):
        build(tmp_path, filter_cfg=dict(filter_empty_gt=True, min_size=32))


@pytest.mark.parametrize('line,what', [
    ('1 2 3 4 5 6 7 ship', 'expected 9 or 10 fields'),
    ('1 2 3 x 5 6 7 8 ship 0', 'non-numeric coordinate'),
    ('1 2 3 4 5 6 7 8 boat 0', "unknown class 'boat'"),
    ('1 2 3 4 5 6 7 8 ship hard', 'difficulty must be an integer'),
    ('1 2 nan 4 5 6 7 8 ship 0', 'non-finite coordinate'),      # float() accepts these
    ('1 2 3 4 5 6 7 inf ship 0', 'non-finite coordinate'),
    ('1 2 3 4 -Infinity 6 7 8 ship 0', 'non-finite coordinate'),
])
def test_malformed_line_names_file_and_line(tmp_path, line, what):
    write(tmp_path, {'P0003': f'1 2 3 4 5 6 7 8 tank 0\n{line}\n'})
    with pytest.raises(DOTAFormatError) as err:
        build(tmp_path)
    assert f'P0003.txt:2: {what}' in str(err.value)


def test_non_strict_skips_with_one_warning_per_file(tmp_path):
    write(tmp_path, {'P0004': '1 2 3 4 5 6 7 8 tank 0\nbad line\n1 2 3 4 5 6 7 8 boat 0\n'})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ds = build(tmp_path, strict=False)
    msgs = [str(w.message) for w in caught if 'malformed' in str(w.message)]
    assert len(msgs) == 1 and 'skipped 2 malformed line(s)' in msgs[0] and 'P0004.txt:2' in msgs[0]
    assert len(ds.get_data_info(0)['instances']) == 1


def test_missing_folders_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='ann_file'):
        build(tmp_path)
    (tmp_path / 'ann').mkdir()
    with pytest.raises(FileNotFoundError, match=r'no txt annotation files in .*ann'):
        build(tmp_path)


def test_test_mode_without_annotations(tmp_path):
    write(tmp_path, {'P0005': '', 'P0006': ''})
    ds = DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), ann_file='',
                             data_prefix=dict(img_path='img/'), test_mode=True, pipeline=[]))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['P0005', 'P0006']


def test_no_ann_dir_keeps_images_under_filter_empty_gt(tmp_path):
    # mmrotate's test_dota_without_ann_file: images without annotations are kept by filter_empty_gt
    write(tmp_path, {'P0005': '', 'P0006': ''})
    ds = DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), data_prefix=dict(img_path='img/'),
                             filter_cfg=dict(filter_empty_gt=True), pipeline=[]))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['P0005', 'P0006']
    assert ds.get_data_info(0)['file_name'] == 'P0005.png' and ds.get_cat_ids(0) == []


def test_only_empty_label_files_name_the_ann_dir(tmp_path):
    write(tmp_path, {'P0020': '', 'P0021': 'imagesource:GoogleEarth\ngsd:0.1\n'})   # no object anywhere
    with pytest.raises(ValueError, match=r'ann_file .*ann.*: none of the 2 annotations has an object'):
        build(tmp_path, filter_cfg=dict(filter_empty_gt=True))
    assert len(build(tmp_path)) == 2                    # without the filter they are background images


def test_images_are_checked_at_construction(tmp_path):
    write(tmp_path, {'P0030': '1 2 3 4 5 6 7 8 ship 0\n', 'P0031': '1 2 3 4 5 6 7 8 tank 0\n'})
    # construction stats, never decodes: a non-empty file that is no image passes
    (tmp_path / 'img' / 'P0031.png').write_bytes(b'not a png')
    assert len(build(tmp_path)) == 2
    (tmp_path / 'img' / 'P0031.png').write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty \(0 bytes\): .*P0031\.png \(for label file .*P0031\.txt\)'):
        build(tmp_path)
    (tmp_path / 'img' / 'P0031.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'missing: .*P0031\.png \(for label file .*P0031\.txt\)'):
        build(tmp_path, test_mode=True)                 # a val set fails now, not after an epoch
    # test-dev images (no labels) are checked too
    (tmp_path / 'img' / 'P0030.png').write_bytes(b'')
    with pytest.raises(ValueError, match=r'P0030\.png \(for no label file'):
        DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), ann_file='',
                            data_prefix=dict(img_path='img/'), test_mode=True, pipeline=[]))


def test_pipeline_loads_rboxes(tmp_path):
    write(tmp_path, {'P0007': '0 0 10 0 10 4 0 4 ship 0\n'})
    pipeline = [dict(type='mmdet.LoadImageFromFile'),
                dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
                dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
                dict(type='mmdet.PackDetInputs')]
    ds = DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), ann_file='ann/',
                             data_prefix=dict(img_path='img/'), metainfo=dict(classes=CLASSES), pipeline=pipeline))
    sample = ds[0]['data_samples']
    box = sample.gt_instances.bboxes.tensor[0]
    np.testing.assert_allclose(box.numpy(), [5, 2, 10, 4, 0], atol=1e-5)


@contextlib.contextmanager
def logged():
    """The messages print_log(logger='current') writes meanwhile, with their level names."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def warnings_logged(records, needle):
    return [r.getMessage() for r in records if r.levelname == 'WARNING' and needle in r.getMessage()]


def test_normalised_boxes_are_warned_once_naming_the_files(tmp_path):
    write(tmp_path, {f'P01{i:02d}': '0.1 0.2 0.3 0.2 0.3 0.25 0.1 0.25 ship 0\n0.5 0.5 0.6 0.5 0.6 0.7 0.5 0.7 tank 0\n'
                     for i in range(5)})
    with logged() as records:
        ds = build(tmp_path)
        ds.get_data_info(0)
    msgs = warnings_logged(records, 'normalised')
    assert len(msgs) == 1, msgs
    assert f'ann_file {tmp_path}/ann/: every coordinate of all 10 boxes lies in [0, 1]' in msgs[0]
    assert 'P0100.txt, ' in msgs[0] and 'P0102.txt and 2 more' in msgs[0] and 'mAP 0' in msgs[0]
    # pixel boxes under 2 px a side, nearly everywhere: the same mistake in another unit
    write(tmp_path, {f'P01{i:02d}': '10 20 11 20 11 21 10 21 ship 0\n' for i in range(5)})
    with logged() as records:
        build(tmp_path)
    msgs = warnings_logged(records, 'normalised')
    assert len(msgs) == 1 and '5 of the 5 boxes (100 %) are smaller than 2 px on every side' in msgs[0]


def test_pixel_boxes_are_not_warned(tmp_path):
    # a few tiny boxes among real ones, a box inside [0, 1] next to larger ones, empty files: no warning
    write(tmp_path, {'P0200': '10 20 11 20 11 21 10 21 ship 0\n0 0 1 0 1 1 0 1 tank 0\n',
                     'P0201': '10 10 40 10 40 20 10 20 plane 0\n5 5 30 5 30 9 5 9 ship 0\n', 'P0202': ''})
    with logged() as records:
        build(tmp_path)
    assert not [r for r in records if r.levelname == 'WARNING'], [r.getMessage() for r in records]


def test_images_without_label_files_are_skipped_with_a_warning(tmp_path):
    write(tmp_path, {'P0300': '1 2 3 4 5 6 7 8 ship 0\n', 'P0301': ''})
    for name in ('P0302', 'P0303'):
        cv2.imwrite(str(tmp_path / 'img' / f'{name}.png'), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / 'img' / 'other.jpg'), np.zeros((8, 8, 3), np.uint8))      # not an img_suffix image
    with logged() as records:
        ds = build(tmp_path)
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['P0300', 'P0301']
    msgs = warnings_logged(records, 'no label file')
    assert len(msgs) == 1
    assert f'{tmp_path}/img/ (data_prefix.img_path): 2 image(s) have no label file in {tmp_path}/ann/ and are ' \
           'skipped' in msgs[0] and msgs[0].endswith(': P0302.png, P0303.png')


def test_wrong_img_suffix_is_named_in_the_error(tmp_path):
    (tmp_path / 'ann').mkdir()
    (tmp_path / 'img').mkdir()
    for name in ('P0400', 'P0401', 'P0402'):
        (tmp_path / 'ann' / f'{name}.txt').write_text('1 2 3 4 5 6 7 8 ship 0\n')
        cv2.imwrite(str(tmp_path / 'img' / f'{name}.jpg'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match=r"3 image\(s\) missing: .*P0400\.png .*; the folder .*img/? has 3 "
                                                r"'\*\.jpg' file\(s\) while the dataset looks for '\*\.png': "
                                                r"set img_suffix='jpg'"):
        build(tmp_path)
    assert len(build(tmp_path, img_suffix='jpg')) == 3
    with pytest.raises(FileNotFoundError, match=r"no '\*\.png' images in .*img/ \(data_prefix.img_path\); the "
                                                r"folder .*img/ has 3 '\*\.jpg' file\(s\).*set img_suffix='jpg'"):
        DATASETS.build(dict(type='DOTADataset', data_root=str(tmp_path), ann_file='',
                            data_prefix=dict(img_path='img/'), test_mode=True, pipeline=[]))
