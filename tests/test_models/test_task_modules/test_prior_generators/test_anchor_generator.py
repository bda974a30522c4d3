import math

import pytest
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


def test_pseudo_rotated_anchor_generator_gives_valid_flags_only():
    gen = TASK_UTILS.build(dict(type='PseudoRotatedAnchorGenerator', strides=[8, (16, 8)]))
    assert gen.strides == [(8, 8), (16, 8)] and gen.num_base_priors == [1, 1] and gen.num_levels == 2
    # level 0: 2 x 3 map at stride 8 in a 16 x 16 padded image -> columns 0, 1 valid, column 2 is padding;
    # level 1: 2 x 2 map, stride (w 16, h 8): ceil(16 / 16) = 1 valid column, ceil(16 / 8) = 2 valid rows
    flags = gen.valid_flags([(2, 3), (2, 2)], (16, 16), device='cpu')
    assert flags[0].tolist() == [True, True, False, True, True, False]
    assert flags[1].tolist() == [True, False, True, False]
    with pytest.raises(NotImplementedError, match='valid flags only'):
        gen.grid_priors([(2, 3), (2, 2)], device='cpu')
    assert 'strides=[(8, 8), (16, 8)]' in repr(gen)
