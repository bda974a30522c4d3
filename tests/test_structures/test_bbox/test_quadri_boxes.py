import math

import numpy as np
import torch

from tests.test_structures.test_bbox.test_rotated_boxes import CROP_RBOXES, random_crop_at_origin
from visiondiv.registry import TRANSFORMS
from visiondiv.structures.bbox import QuadriBoxes


def corners64(box):
    """The 4 corners (x1, y1, ..., x4, y4) of an rbox (cx, cy, w, h, t), in float64 from its definition."""
    cx, cy, w, h, t = box
    c, s = math.cos(t), math.sin(t)
    return [v for dx, dy in ((w / 2, h / 2), (-w / 2, h / 2), (-w / 2, -h / 2), (w / 2, -h / 2))
            for v in (cx + c * dx - s * dy, cy + s * dx + c * dy)]


def test_clip_leaves_quads_unchanged_and_is_inside_tests_centres():
    quads = torch.tensor([corners64(b) for b in CROP_RBOXES])
    qb = QuadriBoxes(quads.clone())
    qb.clip_((100, 100))                       # mmrotate 1.x: clipping never deforms a quad
    torch.testing.assert_close(qb.tensor, quads, rtol=0, atol=0)
    assert qb.is_inside((100, 100)).tolist() == [False, True, True]
    assert qb.is_inside((100, 100), all_inside=True).tolist() == [False, False, True]


def test_mmdet_resize_keeps_border_crossing_quad():
    box = [195.0, 100.0, 40.0, 10.0, 0.5]      # crosses x = 200
    resize = TRANSFORMS.build(dict(type='mmdet.Resize', scale_factor=0.5, keep_ratio=True))
    out = resize(dict(img=np.zeros((200, 200, 3), np.uint8), gt_bboxes=QuadriBoxes(torch.tensor([corners64(box)]))))
    # only scaled: the corners of mmrotate's [97.5, 50, 20, 5, 0.5]
    expected = torch.tensor([corners64([97.5, 50.0, 20.0, 5.0, 0.5])])
    torch.testing.assert_close(out['gt_bboxes'].tensor, expected, rtol=0, atol=1e-4)


def test_mmdet_random_crop_drops_quads_outside(monkeypatch):
    quads = [corners64(b) for b in CROP_RBOXES]
    out = random_crop_at_origin(QuadriBoxes(torch.tensor(quads)), monkeypatch)
    assert out['gt_bboxes_labels'].tolist() == [4, 5] and out['gt_ignore_flags'].tolist() == [False, True]
    torch.testing.assert_close(out['gt_bboxes'].tensor, torch.tensor(quads[1:]), rtol=0, atol=0)
