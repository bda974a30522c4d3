"""Angle versions of rotated boxes, with mmrotate's conventions.

- ``oc``: OpenCV definition, theta in [-pi/2, 0), no width/height order.
- ``le90``: long edge first (w >= h), theta in [-pi/2, pi/2).
- ``le135``: long edge first (w >= h), theta in [-pi/4, 3pi/4).
"""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor

#: angle version -> (width_longer, start angle in radians)
ANGLE_VERSIONS = {
    'oc': (False, -math.pi / 2),
    'le90': (True, -math.pi / 2),
    'le135': (True, -math.pi / 4),
}


def check_angle_version(angle_version: str, owner: Optional[str] = None) -> str:
    """``angle_version`` itself if it is one of :data:`ANGLE_VERSIONS`; the one check of the name.

    Args:
        angle_version (str): The name to check.
        owner (str, optional): Who was given it (a class name), to start the message. Defaults to None.

    Returns:
        str: ``angle_version``.

    Raises:
        ValueError: naming ``angle_version`` and the allowed values, if it is not one of them.
    """
    if not isinstance(angle_version, str) or angle_version not in ANGLE_VERSIONS:
        prefix = f'{owner}: ' if owner else ''
        raise ValueError(f'{prefix}angle_version must be one of {sorted(ANGLE_VERSIONS)}, got {angle_version!r}')
    return angle_version


def _check_version(angle_version: str) -> Tuple[bool, float]:
    return ANGLE_VERSIONS[check_angle_version(angle_version)]


def norm_angle(angle: Tensor, angle_version: str) -> Tensor:
    """Wrap ``angle`` into the period of ``angle_version`` (no w/h swap).

    ``oc`` leaves the angle unchanged, as mmrotate's ``norm_angle`` does.

    Args:
        angle (Tensor): Angles in radians, any shape.
        angle_version (str): ``'oc'``, ``'le90'`` (result in [-pi/2, pi/2)) or ``'le135'``
            (result in [-pi/4, 3pi/4)).

    Returns:
        Tensor: The wrapped angles, the shape of ``angle`` (``angle`` itself for ``'oc'``).

    Raises:
        ValueError: an unknown ``angle_version``.
    """
    _check_version(angle_version)
    if angle_version == 'oc':
        return angle
    start = ANGLE_VERSIONS[angle_version][1]
    return torch.remainder(angle - start, math.pi) + start


def regularize_rboxes(boxes: Tensor, pattern: Optional[str] = None, width_longer: bool = True,
                      start_angle: float = -90) -> Tensor:
    """Return (cx, cy, w, h, t) boxes in one unique form, with mmrotate's signature.

    A box has four parameterisations ((w, h, t + k pi) and (h, w, t + pi/2 + k pi));
    this picks one:

    - ``width_longer=True``: w >= h (swapped when h >= w, so a square gets a
      quarter turn), t in [start_angle, start_angle + 180) degrees;
    - ``width_longer=False``: t in [start_angle, start_angle + 90) degrees,
      swapping w/h where a quarter turn is taken off.

    Args:
        boxes (Tensor): (..., 5) rotated boxes, t in radians.
        pattern (str, optional): a preset that overrides the other two
            arguments: 'oc' (False, -90), 'le90' (True, -90) or 'le135'
            (True, -45). None (the default) uses them. Defaults to None.
        width_longer (bool): put the longer edge first. Defaults to True.
        start_angle (float): start of the angle range, in degrees. Defaults to -90
            (with the other defaults: 'le90').

    Returns:
        Tensor: the regularised boxes (..., 5), the same rectangles.

    Raises:
        ValueError: an unknown ``pattern``.
    """
    if pattern is not None:
        if pattern not in ANGLE_VERSIONS:
            raise ValueError(f'pattern must be one of {sorted(ANGLE_VERSIONS)} or None, got {pattern!r}')
        width_longer, start = ANGLE_VERSIONS[pattern]
    else:
        start = start_angle / 180 * math.pi   # as mmrotate computes it: -90 gives -pi/2 exactly
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
