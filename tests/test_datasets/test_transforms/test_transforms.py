
import math

import cv2
import numpy as np
import pytest
import torch

from visiondiv.registry import TRANSFORMS
from visiondiv.structures.bbox import QuadriBoxes, RotatedBoxes, rbox2qbox


def scene(box=(60.0, 40.0, 50.0, 12.0, 0.4), shape=(100, 140)):
    img = np.zeros((*shape, 3), np.uint8)
    quad = rbox2qbox(torch.tensor(box)).numpy().reshape(4, 2)
    cv2.fillPoly(img, [np.round(quad).astype(np.int32)], (255, 255, 255))
    return dict(img=img, img_shape=shape, gt_bboxes=RotatedBoxes(torch.tensor([box])),
                gt_bboxes_labels=np.array([0]), gt_ignore_flags=np.array([False]))


def mask_iou(results):
    """IoU between the white pixels of the image and the (rasterised) box after a transform."""
    img = results['img'][..., 0] > 127
    drawn = np.zeros_like(img, np.uint8)
    quad = rbox2qbox(results['gt_bboxes'].tensor[0]).numpy().reshape(4, 2)
    cv2.fillPoly(drawn, [np.round(quad).astype(np.int32)], 1)
    drawn = drawn.astype(bool)
    return (img & drawn).sum() / (img | drawn).sum()


@pytest.mark.parametrize('angle', [30.0, -75.0, 90.0])
def test_random_rotate_moves_boxes_with_pixels(angle, monkeypatch):
    t = TRANSFORMS.build(dict(type='RandomRotate', prob=1.0, angle_range=180))
    monkeypatch.setattr(t, '_angle', lambda results: angle)
    assert mask_iou(scene()) > 0.85                     # the rasterisation itself
    out = t(scene())
    assert out['rotate_angle'] == angle and mask_iou(out) > 0.8


def rotated_about_centre(box, angle, shape):
    """Closed form: (cx, cy, w, h, t) turned clockwise on screen by ``angle`` degrees about the pixel centre."""
    h, w = shape
    ox, oy, a = (w - 1) / 2, (h - 1) / 2, math.radians(angle)
    dx, dy = box[0] - ox, box[1] - oy
    return [ox + math.cos(a) * dx - math.sin(a) * dy, oy + math.sin(a) * dx + math.cos(a) * dy,
            box[2], box[3], box[4] + a]


def test_random_rotate_mmrotate_1x_config():
    # mmrotate 1.x configs/_base_/datasets/dota_ms.py
    cfg = dict(type='RandomRotate', prob=0.5, angle_range=180, rect_obj_labels=[9, 11])
    t = TRANSFORMS.build(cfg)
    assert type(t.rotate) is TRANSFORMS.get('Rotate') and t.rotate_cfg == dict(type='Rotate')
    np.random.seed(0)
    box = (60.0, 40.0, 50.0, 12.0, 0.0)
    rect_angles, free_angles = [], []
    for _ in range(40):
        res = scene(box=box)
        res['gt_bboxes_labels'] = np.array([11])          # roundabout: always axis-aligned
        out = t(res)
        if 'rotate_angle' in out:
            angle = out['rotate_angle']
            rect_angles.append(angle)
            # the box turned by exactly that multiple of 90 degrees about the image centre
            torch.testing.assert_close(out['gt_bboxes'].tensor[0].double(),
                                       torch.tensor(rotated_about_centre(box, angle, (100, 140)), dtype=torch.float64),
                                       rtol=0, atol=1e-4)
        res = scene(box=box)
        res['gt_bboxes_labels'] = np.array([3])
        free_angles.append(t(res).get('rotate_angle'))
    assert 10 < len(rect_angles) < 30                                   # prob 0.5 of 40
    assert set(rect_angles) <= {90.0, 180.0, -90.0, -180.0} and len(set(rect_angles)) > 1
    free = [a for a in free_angles if a is not None]
    assert all(-180 <= a < 180 for a in free) and any(a % 90 for a in free)


def test_random_rotate_rotate_type_kwargs_and_deprecated_name():
    # rotate_kwargs go to the rotate_type transform: the uncovered corners get img_border_value
    t = TRANSFORMS.build(dict(type='RandomRotate', prob=1.0, angle_range=45, rotate_type='Rotate',
                              img_border_value=7))
    assert t.rotate.img_border_value == (7.0, 7.0, 7.0)   # every channel, as mmrotate
    out = t(dict(img=np.full((60, 60, 3), 200, np.uint8), img_shape=(60, 60)))
    assert out['rotate_angle'] % 90 and tuple(out['img'][0, 0]) == (7, 7, 7)
    # mmrotate 0.x's rect_classes still works, with a warning
    with pytest.warns(FutureWarning, match='rect_obj_labels'):
        old = TRANSFORMS.build(dict(type='RandomRotate', prob=1.0, angle_range=30, rect_classes=[0]))
    assert old.rect_obj_labels == [0]
    np.random.seed(1)
    assert {old(scene())['rotate_angle'] for _ in range(8)} <= {90.0, 180.0, -90.0, -180.0}
    with pytest.raises(ValueError, match='rect_obj_labels only'):
        TRANSFORMS.build(dict(type='RandomRotate', rect_obj_labels=[0], rect_classes=[0]))
    with pytest.raises(ValueError, match='angle_range'):
        TRANSFORMS.build(dict(type='RandomRotate', angle_range=0))


def test_rotate_drops_boxes_leaving_the_image():
    # a box near the corner leaves the image when turned and is dropped with its label
    t = TRANSFORMS.build(dict(type='Rotate', rotate_angle=180))
    res = scene(shape=(100, 300))
    res['gt_bboxes'] = RotatedBoxes(torch.tensor([[-3.0, -3.0, 4.0, 4.0, 0.0], [150.0, 50.0, 10.0, 4.0, 0.0]]))
    res['gt_bboxes_labels'] = np.array([1, 2])
    res['gt_ignore_flags'] = np.array([False, False])
    out = t(res)
    assert len(out['gt_bboxes']) == 1 and out['gt_bboxes_labels'].tolist() == [2]
    torch.testing.assert_close(out['gt_bboxes'].centers, torch.tensor([[149.0, 49.0]]))


def test_mmdet_flip_and_resize_on_rboxes():
    flip = TRANSFORMS.build(dict(type='mmdet.RandomFlip', prob=1.0, direction='horizontal'))
    out = flip(scene())
    assert mask_iou(out) > 0.8
    resize = TRANSFORMS.build(dict(type='mmdet.Resize', scale=(280, 200), keep_ratio=True))
    out = resize(scene())
    assert out['img'].shape[:2] == (200, 280) and mask_iou(out) > 0.85


def test_convert_box_type_and_errors():
    t = TRANSFORMS.build(dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='qbox')))
    out = t(scene())
    assert isinstance(out['gt_bboxes'], QuadriBoxes)
    with pytest.raises(TypeError, match="results\\['gt_bboxes'\\]"):
        t(dict(gt_bboxes=np.zeros((1, 5))))
    with pytest.raises(KeyError, match="unknown box type 'obox' for 'gt_bboxes'"):
        TRANSFORMS.build(dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='obox')))


def test_rotated_albu_geometric_and_photometric():
    t = TRANSFORMS.build(dict(type='RotatedAlbu', transforms=[
        dict(type='Affine', rotate=(40, 40), p=1.0), dict(type='RandomBrightnessContrast', p=1.0)]))
    out = t(scene())
    assert isinstance(out['gt_bboxes'], RotatedBoxes) and len(out['gt_bboxes']) == 1
    assert mask_iou(out) > 0.75
    with pytest.raises(KeyError, match='NoSuchTransform'):
        TRANSFORMS.build(dict(type='RotatedAlbu', transforms=[dict(type='NoSuchTransform')]))
