import math

import torch

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes


def test_rotated_anchor_generators():
    fake = TASK_UTILS.build(dict(type='FakeRotatedAnchorGenerator', angle_version='le90', octave_base_scale=4,
                                 scales_per_octave=1, ratios=[1.0, 0.5, 2.0], strides=[8]))
    anchors = fake.grid_priors([(2, 3)], device='cpu')[0]
    assert isinstance(anchors, RotatedBoxes) and anchors.tensor.shape == (2 * 3 * 3, 5)
    assert torch.all(anchors.widths >= anchors.heights)                   # le90: long edge first
    torch.testing.assert_close(anchors.areas[:3], torch.full((3,), 32.0 ** 2), rtol=1e-4, atol=0)
    rot = TASK_UTILS.build(dict(type='RotatedAnchorGenerator', angles=[0, math.pi / 4], octave_base_scale=4,
                                scales_per_octave=1, ratios=[0.5], strides=[8]))
    r = rot.grid_priors([(2, 2)], device='cpu')[0]
    assert r.tensor.shape == (2 * 2 * 2, 5) and rot.num_base_priors == [2]
    flags = rot.valid_flags([(2, 2)], (16, 8), device='cpu')[0]
    assert flags.shape == (8,) and flags.sum() == 4                       # right column is padding
