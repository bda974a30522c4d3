import contextlib
import math
import os
import tempfile

import cv2
import numpy as np
import pytest
from mmengine.dataset import ClassBalancedDataset
from mmengine.fileio import BaseStorageBackend, register_backend

from visiondiv.datasets import HRSCDataset

OBJ = ('<HRSC_Object><Class_ID>1000000{cid}</Class_ID><difficult>{d}</difficult><mbox_cx>50</mbox_cx>'
       '<mbox_cy>40</mbox_cy><mbox_w>20</mbox_w><mbox_h>6</mbox_h><mbox_ang>0</mbox_ang></HRSC_Object>')


def xml_text(objects, size=(100, 80)):
    """An HRSC XML; ``objects`` are difficult flags (Class_ID 02) or (class id, difficult) pairs."""
    objs = ''.join(OBJ.format(cid=o[0], d=o[1]) if isinstance(o, tuple) else OBJ.format(cid='02', d=o)
                   for o in objects)
    head = '' if size is None else \
        f'<Img_SizeWidth>{size[0]}</Img_SizeWidth><Img_SizeHeight>{size[1]}</Img_SizeHeight>'
    return f'<HRSC_Image>{head}<HRSC_Objects>{objs}</HRSC_Objects></HRSC_Image>'


def hrsc(tmp_path, images, **kw):
    """Write ``{img_id: (width, height, objects)}`` as HRSC XMLs plus an id list, and load them."""
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True, exist_ok=True)
    for img_id, (w, h, objects) in images.items():
        (ann / f'{img_id}.xml').write_text(xml_text(objects, (w, h)))
    (tmp_path / 'list.txt').write_text(''.join(f'{i}\n' for i in images))
    return HRSCDataset(data_root=str(tmp_path), ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                       pipeline=[], **kw)


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


def test_filter_empty_gt_keeps_an_image_of_difficult_objects(tmp_path):
    # the same rule as DOTA's (mmrotate's): only an image with no object at all is dropped
    images = {'100000010': (100, 80, [1, 1]),       # difficult (ignored) objects only
              '100000011': (100, 80, []),           # no object
              '100000012': (100, 80, [0, 1])}
    ds = hrsc(tmp_path, images, filter_cfg=dict(filter_empty_gt=True))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['100000010', '100000012']
    assert [i['ignore_flag'] for i in ds.get_data_info(0)['instances']] == [1, 1]
    assert len(hrsc(tmp_path, images)) == 3
    assert len(hrsc(tmp_path, images, filter_cfg=dict(filter_empty_gt=True), test_mode=True)) == 3


def test_filter_min_size_uses_the_annotated_image_size(tmp_path):
    # mmrotate's HRSC min_size: an image whose smaller side is below it is dropped
    images = {'100000020': (100, 31, [0]), '100000021': (32, 500, [0]), '100000022': (640, 480, [0])}
    ds = hrsc(tmp_path, images, filter_cfg=dict(min_size=32))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['100000021', '100000022']


def test_get_cat_ids_and_class_balanced_repeat_factors(tmp_path):
    # Class_ID 1000000{01, 02, 03} are the fine classes 0, 1, 2
    images = {'100000030': (100, 80, [('01', 0), ('02', 0)]),
              '100000031': (100, 80, [('01', 0)]),
              '100000032': (100, 80, [('01', 0), ('01', 1)]),     # a difficult object still counts (mmrotate)
              '100000033': (100, 80, [('03', 0)]),
              '100000034': (100, 80, [])}
    ds = hrsc(tmp_path, images, classwise=True)
    assert [ds.get_cat_ids(i) for i in range(len(ds))] == [[0, 1], [0], [0, 0], [2], []]
    assert ds.get_data_info(0)['xml_path'] == str(tmp_path / 'FullDataSet' / 'Annotations' / '100000030.xml')
    # closed form (LVIS repeat factor sampling): f(c) = share of images with c, r(c) = max(1, sqrt(t / f(c))),
    # r(image) = max over its classes (1 without any)
    thr, n = 0.5, 5
    r = {0: max(1.0, math.sqrt(thr / (3 / n))), 1: math.sqrt(thr / (1 / n)), 2: math.sqrt(thr / (1 / n))}
    expected = [max(r[0], r[1]), r[0], r[0], r[2], 1.0]
    balanced = ClassBalancedDataset(ds, oversample_thr=thr)
    np.testing.assert_allclose(balanced._get_repeat_factors(ds, thr), expected, rtol=1e-12)
    assert balanced.repeat_indices == [i for i, f in enumerate(expected) for _ in range(math.ceil(f))]
    assert len(balanced) == 7 and balanced.get_data_info(1)['img_id'] == '100000030'


class _MemoryBackend(BaseStorageBackend):
    """A file backend that serves ``files`` from memory: proves every read goes through backend_args."""

    files: dict = {}

    def __init__(self, **kwargs):
        pass

    def get(self, filepath):
        try:
            return self.files[str(filepath)]
        except KeyError:
            raise FileNotFoundError(filepath) from None

    def get_text(self, filepath, encoding='utf-8'):
        return self.get(filepath).decode(encoding)

    def exists(self, filepath):
        return str(filepath) in self.files

    @contextlib.contextmanager
    def get_local_path(self, filepath):
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, os.path.basename(str(filepath)))
            with open(local, 'wb') as f:
                f.write(self.get(filepath))
            yield local


register_backend('visiondiv_test_memory', _MemoryBackend, force=True)


def test_backend_args_reach_id_list_xmls_and_images():
    root = 'nowhere/hrsc'                       # nothing on disk: only the backend has the files
    img = cv2.imencode('.bmp', np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    _MemoryBackend.files = {
        f'{root}/list.txt': b'100000040\n100000041\n',
        f'{root}/FullDataSet/Annotations/100000040.xml': xml_text([0, 1]).encode(),
        f'{root}/FullDataSet/Annotations/100000041.xml': xml_text([0], size=None).encode(),   # size from the image
        f'{root}/FullDataSet/AllImages/100000041.bmp': img}
    ds = HRSCDataset(data_root=root, ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                     backend_args=dict(backend='visiondiv_test_memory'), pipeline=[])
    assert [len(ds.get_data_info(i)['instances']) for i in range(2)] == [2, 1]
    assert (ds.get_data_info(0)['width'], ds.get_data_info(0)['height']) == (100, 80)
    assert (ds.get_data_info(1)['width'], ds.get_data_info(1)['height']) == (64, 48)
    assert ds.get_data_info(1)['xml_path'] == f'{root}/FullDataSet/Annotations/100000041.xml'
    del _MemoryBackend.files[f'{root}/FullDataSet/AllImages/100000041.bmp']
    with pytest.raises(FileNotFoundError, match=r'100000041\.xml gives no Img_SizeWidth.*100000041\.bmp'):
        HRSCDataset(data_root=root, ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                    backend_args=dict(backend='visiondiv_test_memory'), pipeline=[])


def test_filters_that_leave_nothing_name_the_id_list(tmp_path):
    with pytest.raises(ValueError, match=r'list\.txt: none of the 2 annotations has an object'):
        hrsc(tmp_path, {'100000050': (100, 80, []), '100000051': (100, 80, [])}, filter_cfg=dict(filter_empty_gt=True))


def test_normalised_boxes_are_warned_naming_the_xmls(tmp_path):
    from tests.test_datasets.test_dota import logged, warnings_logged
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True)
    obj = ('<HRSC_Object><difficult>0</difficult><mbox_cx>0.5</mbox_cx><mbox_cy>0.4</mbox_cy><mbox_w>0.2</mbox_w>'
           '<mbox_h>0.06</mbox_h><mbox_ang>0.1</mbox_ang></HRSC_Object>')
    for img_id in ('100000001', '100000002'):
        (ann / f'{img_id}.xml').write_text(f'<HRSC_Image><Img_SizeWidth>100</Img_SizeWidth><Img_SizeHeight>80'
                                           f'</Img_SizeHeight><HRSC_Objects>{obj}</HRSC_Objects></HRSC_Image>')
    (tmp_path / 'list.txt').write_text('100000001\n100000002\n')
    with logged() as records:
        HRSCDataset(data_root=str(tmp_path), ann_file='list.txt', data_prefix=dict(sub_data_root='FullDataSet/'),
                    pipeline=[])
    msgs = warnings_logged(records, 'normalised')
    assert len(msgs) == 1 and 'HRSC annotations' in msgs[0] and 'list.txt' in msgs[0]
    assert 'every coordinate of all 2 boxes lies in [0, 1]' in msgs[0]
    assert f'{ann}/100000001.xml, {ann}/100000002.xml.' in msgs[0]
    with logged() as records:                        # pixel boxes: nothing to say
        hrsc(tmp_path, {'100000003': (100, 80, [0])})
    assert not warnings_logged(records, 'normalised')
