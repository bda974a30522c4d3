
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


def test_random_rotate_rect_classes_and_filtering():
    np.random.seed(0)
    t = TRANSFORMS.build(dict(type='RandomRotate', prob=1.0, angle_range=30, rect_classes=[0]))
    for _ in range(5):
        assert t(scene())['rotate_angle'] in (90.0, 180.0, -90.0)
    # a box near the corner leaves the image when turned and is dropped with its label
    t = TRANSFORMS.build(dict(type='RandomRotate', prob=1.0))
    t._angle = lambda results: 180.0
    res = scene(box=(5.0, 5.0, 4.0, 4.0, 0.0), shape=(100, 300))
    res['gt_bboxes'] = RotatedBoxes(torch.tensor([[5.0, 5.0, 4.0, 4.0, 0.0], [150.0, 50.0, 10.0, 4.0, 0.0]]))
    res['gt_bboxes_labels'] = np.array([1, 2])
    res['gt_ignore_flags'] = np.array([False, False])
    res['gt_bboxes'].tensor[0, :2] = torch.tensor([-3.0, -3.0])   # outside after nothing at all
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
