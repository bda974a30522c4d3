
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
    """Closed form: (cx, cy, w, h, t) turned clockwise on screen by ``angle`` degrees about the image centre
    (w / 2, h / 2) in box coordinates (pixel i spans [i, i + 1))."""
    h, w = shape
    ox, oy, a = w / 2, h / 2, math.radians(angle)
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
    torch.testing.assert_close(out['gt_bboxes'].centers, torch.tensor([[150.0, 50.0]]))   # about (150, 50)



def test_rotate_clips_horizontal_boxes_not_rotated_ones():
    """As mmrotate: after the turn, HorizontalBoxes (their envelope) are clipped to the image; RotatedBoxes are
    not. (60, 60, 95, 95) in a 100 x 100 image turned 45 degrees clockwise about (50, 50): its corners go to
    50 + (dx cos - dy sin, dx sin + dy cos), an envelope of x 50 -+ 35 sin45, y 50 + 20 sin45 .. 50 + 90 sin45
    (113.6, past the image: clipped to 100)."""
    from mmdet.structures.bbox import HorizontalBoxes
    t = TRANSFORMS.build(dict(type='Rotate', rotate_angle=45))
    res = scene(shape=(100, 100))
    res['gt_bboxes'] = HorizontalBoxes(torch.tensor([[60.0, 60.0, 95.0, 95.0], [40.0, 45.0, 60.0, 55.0]]))
    res['gt_bboxes_labels'], res['gt_ignore_flags'] = np.array([1, 2]), np.array([False, False])
    out = t(res)
    s = math.sin(math.pi / 4)
    expected = torch.tensor([[50 - 35 * s, 50 + 20 * s, 50 + 35 * s, 100.0],
                             [50 - 10 * s - 5 * s, 50 - 10 * s - 5 * s, 50 + 10 * s + 5 * s, 50 + 10 * s + 5 * s]])
    torch.testing.assert_close(out['gt_bboxes'].tensor, expected)
    assert out['gt_bboxes_labels'].tolist() == [1, 2]
    # the rotated box of the same region keeps its full geometry (centre and sides)
    res = scene(shape=(100, 100))
    res['gt_bboxes'] = RotatedBoxes(torch.tensor([[77.5, 77.5, 35.0, 35.0, 0.0]]))
    res['gt_bboxes_labels'] = np.array([1])
    out = t(res)
    torch.testing.assert_close(out['gt_bboxes'].tensor[:, :4], torch.tensor([[50.0, 50 + 27.5 * 2 * s, 35.0, 35.0]]))

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


def block_scene(shape=(8, 10), x=(0, 3), y=(2, 3)):
    """A dark image with the pixels x0 <= i < x1, y0 <= j < y1 white, and the box covering exactly those pixels."""
    img = np.zeros((*shape, 3), np.uint8)
    img[y[0]:y[1], x[0]:x[1]] = 255
    box = [(x[0] + x[1]) / 2, (y[0] + y[1]) / 2, x[1] - x[0], y[1] - y[0], 0.0]
    return dict(img=img, img_shape=shape, gt_bboxes=RotatedBoxes(torch.tensor([box])),
                gt_bboxes_labels=np.array([0]), gt_ignore_flags=np.array([False]))


@pytest.mark.parametrize('angle,expected,pixels', [
    # 10 x 8 image, centre (5, 4); the box (1.5, 2.5, 3, 1, 0) covers pixels x 0..2 of row 2
    (90, [6.5, 0.5, 3.0, 1.0, math.pi / 2], (6, 7, 0, 2)),      # x' = 5 - (y - 4), y' = 4 + (x - 5); cut at the top
    (180, [8.5, 5.5, 3.0, 1.0, math.pi], (7, 10, 5, 6)),        # x' = 10 - x, y' = 8 - y
    (-90, [3.5, 7.5, 3.0, 1.0, -math.pi / 2], (3, 4, 6, 8)),    # x' = 5 + (y - 4), y' = 4 - (x - 5); cut at the bottom
])
def test_rotate_moves_boxes_with_their_pixels_by_hand(angle, expected, pixels):
    out = TRANSFORMS.build(dict(type='Rotate', rotate_angle=angle, interpolation='nearest'))(block_scene())
    torch.testing.assert_close(out['gt_bboxes'].tensor[0].double(), torch.tensor(expected, dtype=torch.float64),
                               rtol=0, atol=1e-5)
    ys, xs = np.nonzero(out['img'][..., 0])
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == pixels
    # the box's extent (clipped to the image) is the white block: the box stays on its pixels
    quad = rbox2qbox(out['gt_bboxes'].tensor[0]).reshape(4, 2)
    x0, y0 = quad.min(0).values.clamp(min=0)
    x1, y1 = torch.minimum(quad.max(0).values, torch.tensor([10.0, 8.0]))
    assert [round(float(v)) for v in (x0, x1, y0, y1)] == list(pixels)
    # the recorded homography maps box coordinates as the boxes moved
    centre = out['homography_matrix'] @ np.array([1.5, 2.5, 1.0])
    np.testing.assert_allclose(centre[:2], expected[:2], atol=1e-5)


def test_rotate_square_image_by_90_is_rot90_and_masks_follow():
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
    bitmap = BitmapMasks((rng.random((1, 12, 12)) > 0.5).astype(np.uint8), 12, 12)
    seg = rng.integers(0, 5, (12, 12), dtype=np.uint8)
    res = dict(img=img.copy(), img_shape=(12, 12), gt_masks=bitmap, gt_seg_map=seg.copy())
    out = TRANSFORMS.build(dict(type='Rotate', rotate_angle=90))(res)
    clockwise = np.rot90(img, k=-1)                      # clockwise on screen
    np.testing.assert_array_equal(out['img'], clockwise)
    np.testing.assert_array_equal(out['gt_masks'].masks[0], np.rot90(bitmap.masks[0], k=-1))
    np.testing.assert_array_equal(out['gt_seg_map'], np.rot90(seg, k=-1))
    # a polygon (box coordinates) turns about (6, 6): the square [0, 2) x [0, 2) goes to [10, 12) x [0, 2)
    poly = PolygonMasks([[np.array([0, 0, 2, 0, 2, 2, 0, 2], np.float64)]], 12, 12)
    out = TRANSFORMS.build(dict(type='Rotate', rotate_angle=90))(dict(img=img.copy(), img_shape=(12, 12),
                                                                      gt_masks=poly))
    coords = out['gt_masks'].masks[0][0].reshape(-1, 2)
    np.testing.assert_allclose(coords.min(0), [10, 0], atol=1e-6)
    np.testing.assert_allclose(coords.max(0), [12, 2], atol=1e-6)


def test_random_rotate_draws_in_mmrotates_order():
    t = TRANSFORMS.build(dict(type='RandomRotate', prob=0.7, angle_range=60))
    np.random.seed(3)
    got = [t(block_scene()).get('rotate_angle') for _ in range(30)]
    np.random.seed(3)
    expected = []
    for _ in range(30):       # mmrotate: rand() < prob, then angle_range * (2 rand() - 1)
        expected.append(60 * (2 * np.random.rand() - 1) if np.random.rand() < 0.7 else None)
    assert got == pytest.approx(expected)


def test_random_choice_rotate_probabilities_with_a_seeded_rng():
    t = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[30, 60], prob=[0.2, 0.5]))
    assert t.probabilities() == pytest.approx([0.2, 0.5, 0.3])
    np.random.seed(0)
    draws = np.array([t._choice_angle() for _ in range(4000)])
    for angle, p in ((30, 0.2), (60, 0.5), (0, 0.3)):
        assert abs((draws == angle).mean() - p) < 0.03        # 4 binomial standard deviations
    # a float prob is shared by the angles
    t = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[90, 180, 270], prob=0.6))
    assert t.probabilities() == pytest.approx([0.2, 0.2, 0.2, 0.4])
    np.random.seed(1)
    angles = [t(block_scene(shape=(10, 10))).get('rotate_angle') for _ in range(600)]
    assert abs(sum(a is None for a in angles) / 600 - 0.4) < 0.08
    assert {a for a in angles if a is not None} == {90.0, 180.0, 270.0}
    # prob 0: never; a single angle with prob 1: always
    never = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[45], prob=0.0))
    always = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[45], prob=1.0))
    assert all('rotate_angle' not in never(block_scene()) for _ in range(20))
    assert all(always(block_scene())['rotate_angle'] == 45 for _ in range(20))


def test_random_choice_rotate_rect_objects_get_multiples_of_90():
    t = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[15, 30, 45], prob=1.0, rect_obj_labels=[9, 11]))
    np.random.seed(2)
    rect, free = [], []
    for _ in range(40):
        res = block_scene(shape=(10, 10))
        res['gt_bboxes_labels'] = np.array([11])
        out = t(res)
        rect.append(out['rotate_angle'])
        torch.testing.assert_close(out['gt_bboxes'].tensor[0].double(), torch.tensor(
            rotated_about_centre([1.5, 2.5, 3.0, 1.0, 0.0], out['rotate_angle'], (10, 10)), dtype=torch.float64),
            rtol=0, atol=1e-4)
        res = block_scene(shape=(10, 10))
        res['gt_bboxes_labels'] = np.array([3])
        free.append(t(res)['rotate_angle'])
    assert set(rect) <= {90.0, 180.0, -90.0, -180.0} and len(set(rect)) > 1
    assert set(free) == {15.0, 30.0, 45.0}
    # rotate_kwargs reach the Rotate it builds
    t = TRANSFORMS.build(dict(type='RandomChoiceRotate', angles=[45], prob=1.0, img_border_value=(1, 2, 3)))
    assert type(t.rotate) is TRANSFORMS.get('Rotate') and t.rotate.img_border_value == (1.0, 2.0, 3.0)
    assert tuple(t(dict(img=np.full((20, 20, 3), 200, np.uint8), img_shape=(20, 20)))['img'][0, 0]) == (1, 2, 3)


@pytest.mark.parametrize('cfg,error,key', [
    (dict(type='RandomChoiceRotate', angles=[0, 90]), ValueError, 'angles must not hold 0'),
    (dict(type='RandomChoiceRotate', angles=[]), ValueError, 'angles must be'),
    (dict(type='RandomChoiceRotate', angles=[22.5]), ValueError, 'angles must be'),
    (dict(type='RandomChoiceRotate', angles=[90], prob=1.5), ValueError, 'prob must be in'),
    (dict(type='RandomChoiceRotate', angles=[90, 180], prob=[0.5]), ValueError, 'prob has 1 values for 2 angles'),
    (dict(type='RandomChoiceRotate', angles=[90, 180], prob=[0.7, 0.6]), ValueError, 'prob must be >= 0 and sum'),
    (dict(type='RandomChoiceRotate', angles=[90], prob='0.5'), TypeError, 'prob must be a number'),
    (dict(type='RandomChoiceRotate', angles=[90], rect_obj_labels=9), TypeError, 'rect_obj_labels'),
    (dict(type='RandomRotate', prob=2.0), ValueError, 'prob'),
    (dict(type='RandomRotate', rect_obj_labels='9'), TypeError, 'rect_obj_labels'),
    (dict(type='Rotate', rotate_angle='90'), TypeError, 'rotate_angle'),
    (dict(type='Rotate', rotate_angle=90, interpolation='cubic'), ValueError, 'interpolation'),
    (dict(type='Rotate', rotate_angle=90, img_border_value=(1, 2)), ValueError, 'img_border_value'),
    (dict(type='Rotate', rotate_angle=90, seg_ignore_label=None), TypeError, 'seg_ignore_label'),
    (dict(type='RandomRotate', interpolation='cubic'), ValueError, 'interpolation'),   # via rotate_kwargs
])
def test_bad_arguments_are_refused_naming_the_key(cfg, error, key):
    with pytest.raises(error, match=key):
        TRANSFORMS.build(cfg)


def test_rotate_without_boxes_and_with_empty_boxes():
    out = TRANSFORMS.build(dict(type='Rotate', rotate_angle=30))(dict(img=np.zeros((6, 8, 3), np.uint8),
                                                                      img_shape=(6, 8)))
    assert out['img'].shape == (6, 8, 3) and out['homography_matrix'].shape == (3, 3)
    res = block_scene()
    res.update(gt_bboxes=RotatedBoxes(torch.zeros(0, 5)), gt_bboxes_labels=np.zeros(0, np.int64),
               gt_ignore_flags=np.zeros(0, bool))
    out = TRANSFORMS.build(dict(type='Rotate', rotate_angle=30))(res)
    assert len(out['gt_bboxes']) == 0 and len(out['gt_bboxes_labels']) == 0
