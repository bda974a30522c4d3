import os.path as osp
import warnings

import cv2
import numpy as np
import pytest

from visiondiv.datasets import DOTAFormatError, HRSCDataset
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
    # filter_empty_gt drops the empty image (and one with only ignored objects)
    assert len(build(tmp_path, diff_thr=1, filter_cfg=dict(filter_empty_gt=True))) == 1


@pytest.mark.parametrize('line,what', [
    ('1 2 3 4 5 6 7 ship', 'expected 9 or 10 fields'),
    ('1 2 3 x 5 6 7 8 ship 0', 'non-numeric coordinate'),
    ('1 2 3 4 5 6 7 8 boat 0', "unknown class 'boat'"),
    ('1 2 3 4 5 6 7 8 ship hard', 'difficulty must be an integer'),
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


def test_hrsc_xml(tmp_path):
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True)
    (ann / '100000001.xml').write_text(
        '<HRSC_Image><Img_SizeWidth>100</Img_SizeWidth><Img_SizeHeight>80</Img_SizeHeight><HRSC_Objects>'
        '<HRSC_Object><Class_ID>100000002</Class_ID><difficult>0</difficult><mbox_cx>50</mbox_cx>'
        '<mbox_cy>40</mbox_cy><mbox_w>20</mbox_w><mbox_h>6</mbox_h><mbox_ang>0</mbox_ang></HRSC_Object>'
        '</HRSC_Objects></HRSC_Image>')
    (tmp_path / 'list.txt').write_text('100000001\n')
    ds = HRSCDataset(data_root=str(tmp_path), ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                     pipeline=[])
    inst = ds.get_data_info(0)['instances'][0]
    np.testing.assert_allclose(inst['bbox'], [60, 43, 60, 37, 40, 37, 40, 43], atol=1e-9)
    fine = HRSCDataset(data_root=str(tmp_path), ann_file='list.txt', classwise=True,
                       data_prefix=dict(sub_data_root='FullDataSet/'), pipeline=[])
    assert fine.metainfo['classes'][fine.get_data_info(0)['instances'][0]['bbox_label']] == 'aircraft carrier'
    (ann / '100000001.xml').write_text('<HRSC_Image><HRSC_Object><mbox_cx>x</mbox_cx></HRSC_Object></HRSC_Image>')
    with pytest.raises(ValueError, match=r'100000001\.xml: HRSC_Object #0'):
        HRSCDataset(data_root=str(tmp_path), ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                    pipeline=[])
