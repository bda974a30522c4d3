import math

import pytest
import torch

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes


def test_closed_form_iou_iof():
    calc = TASK_UTILS.build(dict(type='RBboxOverlaps2D'))
    a = torch.tensor([[0.0, 0.0, 4.0, 2.0, 0.0]])
    b = torch.tensor([[0.0, 0.0, 2.0, 4.0, 0.0], [0.0, 0.0, 4.0, 2.0, math.pi / 2], [100.0, 0, 4, 2, 0]])
    iou = calc(a, b)
    # cross of two 4x2 rectangles: overlap 2x2=4, union 12
    torch.testing.assert_close(iou, torch.tensor([[1 / 3, 1 / 3, 0.0]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(calc(a, b, mode='iof'), torch.tensor([[0.5, 0.5, 0.0]]), atol=1e-5, rtol=0)
    # both turned by 45 degrees: IoU unchanged
    a45, b45 = a.clone(), b[:1].clone()
    a45[:, 4] += math.pi / 4
    b45[:, 4] += math.pi / 4
    assert calc(a45, b45).item() == pytest.approx(1 / 3, abs=1e-5)
    # aligned mode, score column dropped, box objects accepted, empty inputs
    scored = torch.cat([b, torch.ones(3, 1)], 1)
    torch.testing.assert_close(calc(RotatedBoxes(b), scored, is_aligned=True), torch.ones(3), atol=1e-5, rtol=0)
    assert calc(a, torch.zeros(0, 5)).shape == (1, 0)
    # zero-size boxes: finite, no NaN
    z = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0]])
    assert torch.isfinite(calc(z, a)).all()
    with pytest.raises(ValueError, match='columns'):
        calc(torch.zeros(2, 4), a)


def test_sparse_path_equals_dense_op():
    # many boxes: rbbox_overlaps only runs the polygon op on pairs whose envelopes overlap
    from mmcv.ops import box_iou_rotated
    from visiondiv.structures.bbox import rbbox_overlaps
    g = torch.Generator().manual_seed(0)

    def boxes(n):
        return torch.cat([torch.rand(n, 2, generator=g) * 300, torch.rand(n, 2, generator=g) * 60 + 2,
                          (torch.rand(n, 1, generator=g) - 0.5) * 6.4], 1)
    a, b = boxes(7), boxes(3000)
    for mode in ('iou', 'iof'):
        dense = box_iou_rotated(a, b, mode=mode)
        assert (dense > 0).sum() > 50            # the test exercises real overlaps
        torch.testing.assert_close(rbbox_overlaps(a, b, mode=mode), dense, rtol=0, atol=0)
