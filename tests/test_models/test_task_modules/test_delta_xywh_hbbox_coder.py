"""DeltaXYWHHBBoxCoder: mmdet's deltas to the envelopes of rotated targets, by hand."""
import math

import pytest
import torch
from mmdet.structures.bbox import HorizontalBoxes

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes


def test_encode_to_envelope_and_decode_back():
    coder = TASK_UTILS.build(dict(type='DeltaXYWHHBBoxCoder', target_means=[0.] * 4, target_stds=[1.] * 4,
                                  use_box_type=True))
    anchors = torch.tensor([[0., 0., 10., 20.]])
    # a 4x2 box turned 90 degrees at (5, 10): envelope 2 wide, 4 high, same centre as the anchor
    gts = RotatedBoxes(torch.tensor([[5., 10., 4., 2., math.pi / 2]]))
    deltas = coder.encode(HorizontalBoxes(anchors), gts)
    torch.testing.assert_close(deltas, torch.tensor([[0., 0., math.log(2 / 10), math.log(4 / 20)]]),
                               atol=1e-6, rtol=0)
    # an offset 45-degree square: envelope side 2 sqrt2 centred at (7, 12)
    s = 2 * math.sqrt(2)
    d2 = coder.encode(anchors, torch.tensor([[7., 12., 2., 2., math.pi / 4]]))
    torch.testing.assert_close(d2, torch.tensor([[2 / 10, 2 / 20, math.log(s / 10), math.log(s / 20)]]),
                               atol=1e-6, rtol=0)
    back = coder.decode(HorizontalBoxes(anchors), deltas)
    assert isinstance(back, HorizontalBoxes)
    torch.testing.assert_close(back.tensor, torch.tensor([[4., 8., 6., 12.]]), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match='rotated targets'):
        coder.encode(anchors, anchors)
