import math

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures.bbox import convert_box_type, get_box_type

from visiondiv.registry import TRANSFORMS
from visiondiv.structures.bbox import (QuadriBoxes, RotatedBoxes, hbox2rbox, norm_angle, qbox2rbox,
                                       rbox2hbox, rbox2qbox, regularize_rboxes)


def random_rboxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 300
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 60 + 1
    t = (torch.rand(n, 1, generator=g, dtype=torch.float64) - 0.5) * 4 * math.pi
    return torch.cat([xy, wh, t], 1)


def same_rect(a, b, atol=1e-6):
    """Two rbox sets describe the same rectangles (compare their le90 forms)."""
    ra, rb = regularize_rboxes(a, 'le90'), regularize_rboxes(b, 'le90')
    diff = ra - rb
    diff[:, 4] = torch.remainder(diff[:, 4] + math.pi / 2, math.pi) - math.pi / 2
    return torch.allclose(diff, torch.zeros_like(diff), atol=atol)


@pytest.mark.parametrize('version,lo,hi,longer', [('le90', -math.pi / 2, math.pi / 2, True),
                                                  ('le135', -math.pi / 4, 3 * math.pi / 4, True),
                                                  ('oc', -math.pi / 2, 0, False)])
def test_regularize_ranges_and_identity(version, lo, hi, longer):
    boxes = random_rboxes(500, 0)
    reg = regularize_rboxes(boxes, version)
    assert torch.all(reg[:, 4] >= lo - 1e-12) and torch.all(reg[:, 4] < hi + 1e-12)
    if longer:
        assert torch.all(reg[:, 2] >= reg[:, 3])
    # same rectangle: identical corner sets
    qa = rbox2qbox(boxes).reshape(-1, 4, 2)
    qb = rbox2qbox(reg).reshape(-1, 4, 2)
    da = torch.cdist(qa, qb).min(-1).values
    assert da.max() < 1e-8
    torch.testing.assert_close(regularize_rboxes(reg, version), reg)


def test_norm_angle():
    a = torch.tensor([math.pi, -math.pi / 2, 3.0, -3.0], dtype=torch.float64)
    torch.testing.assert_close(norm_angle(a, 'le90'),
                               torch.tensor([0.0, -math.pi / 2, 3.0 - math.pi, -3.0 + math.pi],
                                            dtype=torch.float64))
    torch.testing.assert_close(norm_angle(a, 'oc'), a)
    with pytest.raises(ValueError, match='angle_version'):
        norm_angle(a, 'le45')


def test_qbox_roundtrip_and_min_area_rect():
    boxes = random_rboxes(200, 1)
    torch.testing.assert_close(qbox2rbox(rbox2qbox(boxes)), regularize_rboxes(boxes, 'le90'),
                               rtol=1e-9, atol=1e-9)
    # arbitrary (also non-convex) quads: our area equals OpenCV's minimum-area rectangle
    rng = np.random.default_rng(2)
    quads = rng.uniform(0, 100, (300, 8)).astype(np.float32)
    ours = qbox2rbox(torch.from_numpy(quads).double())
    for q, r in zip(quads, ours):
        (_, _), (w, h), _ = cv2.minAreaRect(q.reshape(4, 2))
        assert r[2].item() * r[3].item() == pytest.approx(w * h, rel=1e-4, abs=1e-3)
        # and every corner lies inside (or on) our rectangle
        inside = RotatedBoxes(r[None].float()).find_inside_points(
            torch.from_numpy(q.reshape(4, 2)), eps=-1e-3)
        assert bool(inside.all())


def test_hbox_conversions():
    h = torch.tensor([[0.0, 0.0, 10.0, 4.0]])
    r = hbox2rbox(h)
    torch.testing.assert_close(r, torch.tensor([[5.0, 2.0, 10.0, 4.0, 0.0]]))
    torch.testing.assert_close(rbox2hbox(r), h)
    # a 90-degree turn swaps the extents
    r90 = torch.tensor([[5.0, 2.0, 10.0, 4.0, math.pi / 2]])
    torch.testing.assert_close(rbox2hbox(r90), torch.tensor([[3.0, -3.0, 7.0, 7.0]]), atol=1e-5, rtol=0)
    # registered with mmdet's converter table
    assert get_box_type('rbox')[1] is RotatedBoxes and get_box_type('qbox')[1] is QuadriBoxes
    q = convert_box_type(RotatedBoxes(r), dst_type='qbox')
    assert isinstance(q, QuadriBoxes)
    torch.testing.assert_close(q.areas, torch.tensor([40.0]))


def test_flip_rotate_rescale_translate():
    img_shape = (200, 300)
    boxes = random_rboxes(50, 3).float()
    rb = RotatedBoxes(boxes.clone())
    qb = QuadriBoxes(rbox2qbox(boxes))
    for direction in ('horizontal', 'vertical', 'diagonal'):
        r, q = rb.clone(), qb.clone()
        r.flip_(img_shape, direction)
        q.flip_(img_shape, direction)
        assert same_rect(r.tensor.double(), qbox2rbox(q.tensor.double()), atol=1e-3)
        r.flip_(img_shape, direction)
        assert same_rect(r.tensor.double(), boxes.double(), atol=1e-3)
    r, q = rb.clone(), qb.clone()
    r.rotate_((150, 100), 30)
    q.rotate_((150, 100), 30)
    assert same_rect(r.tensor.double(), qbox2rbox(q.tensor.double()), atol=1e-3)
    for scale in ((2.0, 2.0), (1.5, 0.5)):
        r, q = rb.clone(), qb.clone()
        r.rescale_(scale)
        q.rescale_(scale)
        # the sheared box keeps both edge lengths of the scaled parallelogram
        edges = q.tensor.reshape(-1, 4, 2)
        w_edge = (edges[:, 0] - edges[:, 3]).norm(dim=-1)
        h_edge = (edges[:, 0] - edges[:, 1]).norm(dim=-1)
        torch.testing.assert_close(r.widths, w_edge, rtol=1e-4, atol=1e-3)
        torch.testing.assert_close(r.heights, h_edge, rtol=1e-4, atol=1e-3)
        torch.testing.assert_close(r.centers, q.centers, rtol=1e-4, atol=1e-3)
    r = rb.clone()
    r.translate_((5, -3))
    torch.testing.assert_close(r.centers, rb.centers + torch.tensor([5.0, -3.0]))
    r = rb.clone()
    r.resize_((2.0, 0.5))
    torch.testing.assert_close(r.areas, rb.areas)


def test_project_identity_and_translation():
    boxes = random_rboxes(20, 4).float()
    rb = RotatedBoxes(boxes.clone())
    m = np.array([[1, 0, 7], [0, 1, -2], [0, 0, 1]], dtype=np.float32)
    rb.project_(m)
    shifted = boxes.clone()
    shifted[:, :2] += torch.tensor([7.0, -2.0])
    assert same_rect(rb.tensor.double(), shifted.double(), atol=1e-3)


def test_find_inside_points_against_cv2():
    boxes = random_rboxes(10, 5).float()
    rng = np.random.default_rng(6)
    pts = torch.from_numpy(rng.uniform(0, 300, (400, 2)).astype(np.float32))
    inside = RotatedBoxes(boxes).find_inside_points(pts, eps=0.0)
    inside_q = QuadriBoxes(rbox2qbox(boxes)).find_inside_points(pts)
    for j, q in enumerate(rbox2qbox(boxes).numpy()):
        poly = q.reshape(4, 2).astype(np.float32)
        for i in range(0, 400, 7):
            d = cv2.pointPolygonTest(poly, tuple(map(float, pts[i])), True)
            if abs(d) > 1e-2:
                assert bool(inside[i, j]) == (d > 0)
                assert bool(inside_q[i, j]) == (d > 0)


def test_areas_and_clip_leaves_boxes_unchanged():
    boxes = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.3], [0.0, 0.0, 10.0, 10.0, 0.0], [180.0, 180.0, 30.0, 10.0, 0.5]])
    rb = RotatedBoxes(boxes.clone())
    torch.testing.assert_close(rb.areas, torch.tensor([32.0, 100.0, 300.0]))
    torch.testing.assert_close(QuadriBoxes(rbox2qbox(boxes)).areas, torch.tensor([32.0, 100.0, 300.0]))
    # mmrotate 1.x: clipping never changes a rotated box, inside, across the border or outside
    rb.clip_((100, 100))
    torch.testing.assert_close(rb.tensor, boxes, rtol=0, atol=0)
    # is_inside tests the centre (mmrotate); all_inside every corner
    assert rb.is_inside((100, 100)).tolist() == [True, True, False]
    assert rb.is_inside((100, 100), all_inside=True).tolist() == [True, False, False]


def test_mmdet_resize_keeps_border_crossing_box():
    """mmdet Resize (clip_object_border=True) at x0.5 on 200x200: the box is only scaled (mmrotate)."""
    resize = TRANSFORMS.build(dict(type='mmdet.Resize', scale_factor=0.5, keep_ratio=True))
    out = resize(dict(img=np.zeros((200, 200, 3), np.uint8),
                      gt_bboxes=RotatedBoxes(torch.tensor([[195.0, 100.0, 40.0, 10.0, 0.5]]))))  # crosses x=200
    assert out['img_shape'] == (100, 100)
    torch.testing.assert_close(out['gt_bboxes'].tensor, torch.tensor([[97.5, 50.0, 20.0, 5.0, 0.5]]),  # mmrotate's
                               rtol=0, atol=1e-5)


# a 100x100 RandomCrop at the origin of a 200x200 image (mmdet's RandomCrop, offset forced to 0)
CROP_RBOXES = [[180.0, 180.0, 30.0, 10.0, 0.5],     # wholly outside the crop
               [95.0, 50.0, 30.0, 10.0, 0.5],       # centre inside, crosses x = 100
               [50.0, 50.0, 20.0, 10.0, 0.3]]


def random_crop_at_origin(boxes, monkeypatch):
    monkeypatch.setattr(np.random, 'randint', lambda low, high=None, *a, **k: 0)
    crop = TRANSFORMS.build(dict(type='mmdet.RandomCrop', crop_size=(100, 100)))
    out = crop(dict(img=np.zeros((200, 200, 3), np.uint8), gt_bboxes=boxes,
                    gt_bboxes_labels=np.array([3, 4, 5]), gt_ignore_flags=np.array([False, False, True])))
    assert out['img_shape'] == (100, 100)
    return out


def test_mmdet_random_crop_drops_boxes_outside(monkeypatch):
    """The box whose centre is outside the crop goes with its label; the border-crossing one is unchanged."""
    out = random_crop_at_origin(RotatedBoxes(torch.tensor(CROP_RBOXES)), monkeypatch)
    assert out['gt_bboxes_labels'].tolist() == [4, 5] and out['gt_ignore_flags'].tolist() == [False, True]
    torch.testing.assert_close(out['gt_bboxes'].tensor, torch.tensor(CROP_RBOXES[1:]), rtol=0, atol=0)


def test_from_instance_masks():
    from mmdet.structures.mask import BitmapMasks, PolygonMasks
    box = torch.tensor([50.0, 40.0, 60.0, 16.0, 0.5])
    quad = rbox2qbox(box).numpy()
    mask = np.zeros((100, 100), np.uint8)
    cv2.fillPoly(mask, [np.round(quad.reshape(4, 2)).astype(np.int32)], 1)
    from_bitmap = RotatedBoxes.from_instance_masks(BitmapMasks(mask[None], 100, 100)).tensor[0]
    from_poly = RotatedBoxes.from_instance_masks(PolygonMasks([[quad]], 100, 100)).tensor[0]
    torch.testing.assert_close(from_poly, regularize_rboxes(box[None], 'le90')[0], atol=1e-3, rtol=0)
    # pixel centres of a rasterised box: within a pixel of the true box
    assert (from_bitmap[:4] - box[:4]).abs().max() < 1.5 and abs(from_bitmap[4] - 0.5) < 0.05
    q = QuadriBoxes.from_instance_masks(PolygonMasks([[quad]], 100, 100))
    torch.testing.assert_close(q.areas, torch.tensor([60.0 * 16.0]), rtol=1e-3, atol=0)


def test_box_class_overlaps():
    a = RotatedBoxes(torch.tensor([[0.0, 0.0, 4.0, 2.0, 0.0]]))
    b = RotatedBoxes(torch.tensor([[0.0, 0.0, 2.0, 4.0, 0.0], [0.0, 0.0, 4.0, 2.0, 0.0]]))
    torch.testing.assert_close(RotatedBoxes.overlaps(a, b), torch.tensor([[1 / 3, 1.0]]), atol=1e-5, rtol=0)
    qa, qb = a.convert_to('qbox'), b.convert_to('qbox')
    torch.testing.assert_close(QuadriBoxes.overlaps(qa, qb), torch.tensor([[1 / 3, 1.0]]), atol=1e-5, rtol=0)
