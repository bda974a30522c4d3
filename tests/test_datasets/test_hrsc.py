import numpy as np
import pytest

from visiondiv.datasets import HRSCDataset

OBJ = ('<HRSC_Object><Class_ID>100000002</Class_ID><difficult>{d}</difficult><mbox_cx>50</mbox_cx>'
       '<mbox_cy>40</mbox_cy><mbox_w>20</mbox_w><mbox_h>6</mbox_h><mbox_ang>0</mbox_ang></HRSC_Object>')


def hrsc(tmp_path, images, **kw):
    """Write ``{img_id: (width, height, [difficult flags])}`` as HRSC XMLs plus an id list, and load them."""
    ann = tmp_path / 'FullDataSet' / 'Annotations'
    ann.mkdir(parents=True, exist_ok=True)
    for img_id, (w, h, flags) in images.items():
        objs = ''.join(OBJ.format(d=d) for d in flags)
        (ann / f'{img_id}.xml').write_text(
            f'<HRSC_Image><Img_SizeWidth>{w}</Img_SizeWidth><Img_SizeHeight>{h}</Img_SizeHeight>'
            f'<HRSC_Objects>{objs}</HRSC_Objects></HRSC_Image>')
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
