"""Angle versions of rotated boxes, with mmrotate's conventions.

- ``oc``: OpenCV definition, theta in [-pi/2, 0), no width/height order.
- ``le90``: long edge first (w >= h), theta in [-pi/2, pi/2).
- ``le135``: long edge first (w >= h), theta in [-pi/4, 3pi/4).
"""
import math
from typing import Tuple

import torch
from torch import Tensor

#: angle version -> (width_longer, start angle in radians)
ANGLE_VERSIONS = {
    'oc': (False, -math.pi / 2),
    'le90': (True, -math.pi / 2),
    'le135': (True, -math.pi / 4),
}


def _check_version(angle_version: str) -> Tuple[bool, float]:
    if angle_version not in ANGLE_VERSIONS:
        raise ValueError(f"angle_version must be one of {sorted(ANGLE_VERSIONS)}, "
                         f"got {angle_version!r}")
    return ANGLE_VERSIONS[angle_version]


def norm_angle(angle: Tensor, angle_version: str) -> Tensor:
    """Wrap ``angle`` into the period of ``angle_version`` (no w/h swap).

    ``oc`` leaves the angle unchanged, as mmrotate's ``norm_angle`` does.
    """
    _check_version(angle_version)
    if angle_version == 'oc':
        return angle
    start = ANGLE_VERSIONS[angle_version][1]
    return torch.remainder(angle - start, math.pi) + start


def regularize_rboxes(boxes: Tensor, angle_version: str = 'le90') -> Tensor:
    """Return (cx, cy, w, h, t) boxes in the unique form of ``angle_version``.

    ``le90``/``le135`` put the long edge first and wrap the angle into a
    period of pi; ``oc`` wraps the angle into [-pi/2, 0) and swaps w/h
    where a quarter turn is taken off.
    """
    width_longer, start = _check_version(angle_version)
    x, y, w, h, t = boxes.unbind(dim=-1)
    if width_longer:
        swap = h >= w
        w, h = torch.where(swap, h, w), torch.where(swap, w, h)
        t = torch.where(swap, t + math.pi / 2, t)
        t = torch.remainder(t - start, math.pi) + start
    else:
        t = torch.remainder(t - start, math.pi)
        swap = t >= math.pi / 2
        w, h = torch.where(swap, h, w), torch.where(swap, w, h)
        t = torch.where(swap, t - math.pi / 2, t) + start
    return torch.stack([x, y, w, h, t], dim=-1)
