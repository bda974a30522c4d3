import math

import numpy as np
import pytest
import torch

from visiondiv.structures.bbox import ANGLE_VERSIONS, RotatedBoxes, check_angle_version, regularize_rboxes

COMBOS = [(wl, start) for wl in (True, False) for start in (-90, -45, 0, 30, 90, -180)]
PRESETS = {'oc': (False, -90), 'le90': (True, -90), 'le135': (True, -45)}


def random_boxes(n, seed):
    g = np.random.default_rng(seed)
    boxes = np.c_[g.uniform(-50, 50, (n, 2)), g.uniform(1, 40, (n, 2)), g.uniform(-3 * np.pi, 3 * np.pi, n)]
    return torch.from_numpy(boxes)


def reference(box, width_longer, start_angle):
    """mmrotate's rule by search over the box's parameterisations (w, h, t + m pi/2 with w/h swapped for odd m).

    width_longer: t in [start, start + 180) and w > h (for w == h mmrotate takes the swapped form);
    otherwise: t in [start, start + 90).
    """
    x, y, w, h, t = [float(v) for v in box]
    start = math.radians(start_angle)
    width = math.pi if width_longer else math.pi / 2
    found = []
    for m in range(-12, 13):
        a = t + m * math.pi / 2
        ww, hh = (w, h) if m % 2 == 0 else (h, w)
        if not start <= a < start + width:
            continue
        if width_longer and not (ww > hh or (ww == hh and m % 2 == 1)):
            continue
        found.append([x, y, ww, hh, a])
    assert len(found) == 1, found
    return found[0]


def corners(box):
    x, y, w, h, t = [float(v) for v in box]
    c, s = math.cos(t), math.sin(t)
    return np.array([(x + c * u - s * v, y + s * u + c * v) for u in (-w / 2, w / 2) for v in (-h / 2, h / 2)])


def same_rectangle(a, b, tol=1e-9):
    ca, cb = corners(a), corners(b)
    return np.abs(ca[:, None] - cb[None]).max(-1).min(1).max() < tol


@pytest.mark.parametrize('width_longer,start_angle', COMBOS)
def test_matches_mmrotate_rule(width_longer, start_angle):
    boxes = random_boxes(200, start_angle + 180 + 1000 * width_longer)
    out = regularize_rboxes(boxes, width_longer=width_longer, start_angle=start_angle)
    expected = torch.tensor([reference(b, width_longer, start_angle) for b in boxes], dtype=torch.float64)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    # the angle range, the edge order, and the same rectangle
    start = math.radians(start_angle)
    assert bool((out[:, 4] >= start).all())
    assert bool((out[:, 4] < start + (math.pi if width_longer else math.pi / 2)).all())
    if width_longer:
        assert bool((out[:, 2] > out[:, 3]).all())
    assert all(same_rectangle(a, b) for a, b in zip(boxes, out))
    # idempotent, and the method of RotatedBoxes takes the same arguments and works in place
    torch.testing.assert_close(regularize_rboxes(out, None, width_longer, start_angle), out, rtol=0, atol=1e-12)
    rb = RotatedBoxes(boxes.clone())
    returned = rb.regularize_boxes(width_longer=width_longer, start_angle=start_angle)
    torch.testing.assert_close(rb.tensor, out, rtol=0, atol=0)
    assert returned is rb.tensor


@pytest.mark.parametrize('pattern', sorted(PRESETS))
def test_pattern_overrides_the_other_arguments(pattern):
    boxes = random_boxes(100, 7)
    width_longer, start_angle = PRESETS[pattern]
    expected = regularize_rboxes(boxes, width_longer=width_longer, start_angle=start_angle)
    # the pattern wins over contradicting width_longer/start_angle, positionally (old callers) or by name
    torch.testing.assert_close(regularize_rboxes(boxes, pattern), expected, rtol=0, atol=0)
    torch.testing.assert_close(regularize_rboxes(boxes, pattern=pattern, width_longer=not width_longer,
                                                 start_angle=start_angle + 45), expected, rtol=0, atol=0)
    torch.testing.assert_close(RotatedBoxes(boxes).regularize_boxes(pattern), expected, rtol=0, atol=0)


def test_defaults_are_le90_and_ties_swap():
    boxes = random_boxes(50, 3)
    torch.testing.assert_close(regularize_rboxes(boxes), regularize_rboxes(boxes, 'le90'), rtol=0, atol=0)
    torch.testing.assert_close(RotatedBoxes(boxes).regularize_boxes(), regularize_rboxes(boxes, 'le90'),
                               rtol=0, atol=0)
    # a square: mmrotate keeps (w, h, t) only when w > h, so it takes the quarter turn
    square = torch.tensor([[0.0, 0.0, 3.0, 3.0, 0.25]], dtype=torch.float64)
    torch.testing.assert_close(regularize_rboxes(square),
                               torch.tensor([[0.0, 0.0, 3.0, 3.0, 0.25 + math.pi / 2 - math.pi]], dtype=torch.float64))
    # float32 and batch dimensions
    b32 = random_boxes(12, 4).float().reshape(3, 4, 5)
    assert regularize_rboxes(b32, width_longer=False, start_angle=0).shape == (3, 4, 5)


def test_unknown_pattern():
    with pytest.raises(ValueError, match="pattern must be one of.*'le45'"):
        regularize_rboxes(random_boxes(2, 0), 'le45')
    with pytest.raises(ValueError, match='pattern'):
        RotatedBoxes(random_boxes(2, 0)).regularize_boxes('r360')


def test_check_angle_version_names_the_key_and_the_allowed_values():
    assert sorted(ANGLE_VERSIONS) == ['le135', 'le90', 'oc']
    for version in ANGLE_VERSIONS:
        assert check_angle_version(version) == version
    for bad in ('le45', 'LE90', '', None, 90):
        with pytest.raises(ValueError, match=r"^angle_version must be one of \['le135', 'le90', 'oc'\], got "):
            check_angle_version(bad)
    with pytest.raises(ValueError, match=r"^MyHead: angle_version must be one of \['le135', 'le90', 'oc'\], "
                                         r"got 'r360'$"):
        check_angle_version('r360', 'MyHead')
