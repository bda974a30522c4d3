"""HRSC2016 ship dataset (VOC-style XML with rotated boxes)."""
import logging
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Optional, Tuple

import mmcv
import torch
from mmengine import fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from visiondiv.registry import DATASETS
from visiondiv.structures.bbox import rbox2qbox
from visiondiv.utils.validation import box_scale_warning
from .dota import _palette, filter_rotated_data

HRSC_FINE_CLASSES = (
    'ship', 'aircraft carrier', 'warcraft', 'merchant ship', 'Nimitz', 'Enterprise', 'Arleigh Burke',
    'WhidbeyIsland', 'Perry', 'Sanantonio', 'Ticonderoga', 'Kitty Hawk', 'Kuznetsov', 'Abukuma', 'Austen',
    'Tarawa', 'Blue Ridge', 'Container', 'OXo|--)', 'Car carrier([]==[])', 'Hovercraft', 'yacht',
    'CntShip(_|.--.--|_]=', 'Cruise', 'submarine', 'lute', 'Medical', 'Car carrier(======|', 'Ford-class',
    'Midway-class', 'Invincible-class')
HRSC_CLASS_IDS = ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15',
                  '16', '17', '18', '19', '20', '22', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33')


@DATASETS.register_module()
class HRSCDataset(BaseDataset):
    """HRSC2016: ``ann_file`` lists image ids; XMLs in ``data_prefix['sub_data_root']/Annotations``.

    Boxes come from ``mbox_cx, mbox_cy, mbox_w, mbox_h, mbox_ang`` (rbox,
    angle in radians). ``classwise=False`` gives the 1-class ``ship`` task;
    ``classwise=True`` the 31 fine classes (keyed by ``Class_ID`` 1000000xx).
    Objects flagged ``difficult`` are ignored.

    ``sub_data_root`` defaults to ``data_root``. Each entry has ``width``/``height`` (from the XML, else
    from the decoded image) for ``filter_cfg.min_size`` (see
    :func:`~visiondiv.datasets.dota.filter_rotated_data`). Boxes that cannot be pixels (normalised to
    0-1) are logged once, as for DOTA (:func:`~visiondiv.utils.validation.box_scale_warning`).

    Args:
        img_subdir (str): image folder under ``sub_data_root``. Defaults to ``'AllImages'``.
        ann_subdir (str): XML folder under ``sub_data_root``. Defaults to ``'Annotations'``.
        classwise (bool): the 31 fine classes instead of ``ship`` (sets metainfo ``classes`` unless
            ``metainfo`` is given). Defaults to False.
        img_suffix (str): image extension, without the dot. Defaults to ``'bmp'``.
        backend_args (dict, optional): mmengine file backend of the id list,
            the XMLs and (for an XML without image size) the images, as mmrotate. Defaults to None.
        **kwargs: the arguments of mmengine's ``BaseDataset``: ``ann_file`` (the text file of image ids,
            one per line), ``data_root``, ``data_prefix`` (``sub_data_root``), ``filter_cfg``,
            ``metainfo``, ``pipeline``, ``test_mode``...
    """

    METAINFO = dict(classes=('ship',), palette=[(220, 20, 60)])

    def __init__(self, img_subdir: str = 'AllImages', ann_subdir: str = 'Annotations', classwise: bool = False,
                 img_suffix: str = 'bmp', backend_args: Optional[dict] = None, **kwargs) -> None:
        self.img_subdir, self.ann_subdir = img_subdir, ann_subdir
        self.classwise, self.img_suffix = classwise, img_suffix
        self.backend_args = backend_args
        if classwise:
            kwargs.setdefault('metainfo', dict(classes=HRSC_FINE_CLASSES, palette=_palette(len(HRSC_FINE_CLASSES))))
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(f'HRSC ann_file (image id list) not found: {self.ann_file}')
        root = self.data_prefix.get('sub_data_root', self.data_root or '')
        img_ids = [line.strip() for line in fileio.list_from_file(self.ann_file, backend_args=self.backend_args)
                   if line.strip()]
        cls_index = {f'1000000{cid}': i for i, cid in enumerate(HRSC_CLASS_IDS)}
        data_list = []
        for img_id in img_ids:
            xml_path = osp.join(root, self.ann_subdir, f'{img_id}.xml')
            try:
                with fileio.get_local_path(xml_path, backend_args=self.backend_args) as local_path:
                    tree = ET.parse(local_path)
            except FileNotFoundError:
                raise FileNotFoundError(f'{self.ann_file}: annotation of image {img_id!r} not found: '
                                        f'{xml_path}') from None
            except ET.ParseError as err:
                raise ValueError(f'{xml_path}: malformed XML ({err})') from None
            xml_root = tree.getroot()
            info = dict(img_id=img_id, file_name=f'{img_id}.{self.img_suffix}', xml_path=xml_path,
                        img_path=osp.join(root, self.img_subdir, f'{img_id}.{self.img_suffix}'), instances=[])
            for k, obj in enumerate(xml_root.iter('HRSC_Object')):
                try:
                    cx, cy, w, h, ang = (float(obj.findtext(t)) for t in
                                         ('mbox_cx', 'mbox_cy', 'mbox_w', 'mbox_h', 'mbox_ang'))
                except (TypeError, ValueError):
                    raise ValueError(f'{xml_path}: HRSC_Object #{k}: missing or non-numeric mbox_* field') from None
                label = 0
                if self.classwise:
                    class_id = obj.findtext('Class_ID', '')
                    if class_id not in cls_index:
                        raise ValueError(f'{xml_path}: HRSC_Object #{k}: unknown Class_ID {class_id!r}')
                    label = cls_index[class_id]
                corners = rbox2qbox(torch.tensor([cx, cy, w, h, ang], dtype=torch.float64)).tolist()
                info['instances'].append(dict(bbox=corners, bbox_label=label,
                                              ignore_flag=int(obj.findtext('difficult', '0') == '1')))
            info['width'], info['height'] = self._image_size(xml_root, xml_path, info['img_path'])
            data_list.append(info)
        message = box_scale_warning([(d['xml_path'], [inst['bbox'] for inst in d['instances']]) for d in data_list],
                                    f'HRSC annotations {osp.join(root, self.ann_subdir)} (ann_file {self.ann_file})')
        if message is not None:
            print_log(message, logger='current', level=logging.WARNING)
        return data_list

    def _image_size(self, xml_root: ET.Element, xml_path: str, img_path: str) -> Tuple[int, int]:
        """(width, height) from ``Img_SizeWidth``/``Img_SizeHeight``, else from the image itself (as mmrotate)."""
        width, height = xml_root.findtext('Img_SizeWidth'), xml_root.findtext('Img_SizeHeight')
        if width and height:
            try:
                return int(width), int(height)
            except ValueError:
                raise ValueError(f'{xml_path}: non-integer Img_SizeWidth/Img_SizeHeight '
                                 f'{width!r}/{height!r}') from None
        try:
            img = mmcv.imfrombytes(fileio.get(img_path, backend_args=self.backend_args))
        except FileNotFoundError:
            raise FileNotFoundError(f'{xml_path} gives no Img_SizeWidth/Img_SizeHeight and its image '
                                    f'{img_path} is missing') from None
        if img is None:
            raise ValueError(f'{xml_path} gives no image size and its image {img_path} cannot be decoded')
        return img.shape[1], img.shape[0]

    def filter_data(self) -> List[dict]:
        """Images kept for training: :func:`~visiondiv.datasets.dota.filter_rotated_data`."""
        return filter_rotated_data(self.data_list, self.filter_cfg, self.test_mode, self.ann_file)

    def get_cat_ids(self, idx: int) -> List[int]:
        """Labels of all objects (ignored ones too, as mmrotate) of image ``idx``, for ``ClassBalancedDataset``."""
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]
