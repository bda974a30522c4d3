"""Angle coders of the rotated heads (mmrotate's ``coders/angle_coder.py``)."""
import math
from typing import Tuple, Union

import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import check_angle_version


@TASK_UTILS.register_module()
class PseudoAngleCoder(BaseBBoxCoder):
    """Identity angle coder (the angle is regressed directly), for mmrotate config compatibility.

    ``encode_size`` is 1: ``encode`` returns the angle targets (..., 1) unchanged and ``decode`` the
    predictions, without their last dimension unless ``keepdim``.

    Args:
        use_box_type (bool): mmdet's ``BaseBBoxCoder`` flag; this coder never wraps its output in a box
            type. Defaults to False.
    """
    encode_size = 1

    def __init__(self, use_box_type: bool = False) -> None:
        super().__init__(use_box_type=use_box_type)

    def encode(self, angle_targets: Tensor) -> Tensor:
        return angle_targets

    def decode(self, angle_preds: Tensor, keepdim: bool = False) -> Tensor:
        return angle_preds if keepdim else angle_preds.squeeze(-1)


@TASK_UTILS.register_module()
class CSLCoder(BaseBBoxCoder):
    """Circular Smooth Label angle coder (`CSL <https://arxiv.org/abs/2003.05597>`_, mmrotate's ``CSLCoder``).

    The angle range (180 degrees for ``'le90'``/``'le135'``, 90 for ``'oc'``) is cut into
    ``encode_size = range // omega`` bins; ``encode`` turns an angle (radians, (..., 1)) into a label over the
    bins: a window centred on the angle's bin ``k = int((degrees + offset) / omega)`` (offset 90 for le90, 45 for
    le135, 0 for oc), wrapping around the range. With ``d`` the bin's signed distance to ``k``:

    - ``'pulse'``: 1 at ``k`` only;
    - ``'rect'``: 1 for ``d`` in ``[-radius, radius)``;
    - ``'triangle'``: ``1 - |d| / radius`` for ``d`` in ``[-radius, radius)``;
    - ``'gaussian'``: ``exp(-d ** 2) / (2 * radius ** 2)`` for ``d`` in ``[-range / 2, range / 2)``.

    The gaussian is mmrotate 1.x's value exactly: its parenthesis sits after ``exp(-d ** 2)`` (mmrotate 0.x and
    the paper use ``exp(-d ** 2 / (2 * radius ** 2))``, peak 1); with the configs' ``radius=1`` the 1.x label
    peaks at 0.5. It is kept so that an mmrotate 1.x config trains on the same targets. Where the window is
    longer than ``encode_size`` (``omega > 1``), bins hit twice take the value of the larger ``d`` (what
    mmrotate's ``scatter`` gives on the CPU). ``decode`` takes the arg-max bin's centre,
    ``((bin + 0.5) * omega) % range - offset`` degrees, in radians (the first bin of a ``'rect'`` window).

    Args:
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``.
        omega (float): bin width in degrees, 0 < omega <= the range. Defaults to 1.
        window (str): ``'gaussian'``, ``'triangle'``, ``'rect'`` or ``'pulse'``. Defaults to ``'gaussian'``.
        radius (int | float): window radius in bins (int for ``'triangle'`` and ``'rect'``), > 0. Defaults to 6.

    Raises:
        ValueError: naming ``angle_version``, ``window``, ``omega`` or ``radius`` when out of range.
    """
    angle_offsets = {'oc': 0, 'le90': 90, 'le135': 45}
    windows = ('gaussian', 'triangle', 'rect', 'pulse')

    def __init__(self, angle_version: str, omega: float = 1, window: str = 'gaussian',
                 radius: Union[int, float] = 6) -> None:
        super().__init__()
        check_angle_version(angle_version, 'CSLCoder')
        if window not in self.windows:
            raise ValueError(f'CSLCoder: window must be one of {self.windows}, got {window!r}')
        self.angle_range = 90 if angle_version == 'oc' else 180
        if not isinstance(omega, (int, float)) or not 0 < omega <= self.angle_range:
            raise ValueError(f'CSLCoder: omega must be in (0, {self.angle_range}] degrees, got {omega!r}')
        if not isinstance(radius, (int, float)) or radius <= 0:
            raise ValueError(f'CSLCoder: radius must be > 0, got {radius!r}')
        if window in ('triangle', 'rect') and radius != int(radius):
            raise ValueError(f"CSLCoder: radius must be a whole number of bins for window={window!r}, got {radius!r}")
        self.angle_version, self.omega, self.window, self.radius = angle_version, omega, window, radius
        self.angle_offset = self.angle_offsets[angle_version]
        self.encode_size = int(self.angle_range // omega)

    def _window(self, device: torch.device) -> Tuple[Tensor, Tensor]:
        """Signed bin offsets ``d`` of the window and their values (float32), each bin at most once."""
        if self.window == 'pulse':
            return torch.zeros(1, dtype=torch.long, device=device), torch.ones(1, device=device)
        half = int(self.radius) if self.window != 'gaussian' else self.angle_range // 2
        offsets = torch.arange(-half, half, device=device)
        if self.window == 'rect':
            values = torch.ones(len(offsets), device=device)
        elif self.window == 'triangle':
            values = 1.0 - offsets.abs().float() / self.radius
        else:
            values = torch.exp(-offsets.float() ** 2) / (2 * self.radius ** 2)
        # a window wider than the bins: the larger offsets write last, as mmrotate's scatter does on the CPU
        return offsets[-self.encode_size:], values[-self.encode_size:]

    def encode(self, angle_targets: Tensor) -> Tensor:
        """The circular smooth labels of angles.

        Args:
            angle_targets (Tensor): (N, 1) angles in radians, in the ``angle_version``'s range.

        Returns:
            Tensor: (N, encode_size) labels, of ``angle_targets``' dtype.
        """
        bins = ((angle_targets * (180 / math.pi) + self.angle_offset) / self.omega).long()   # (N, 1), truncated
        offsets, values = self._window(angle_targets.device)
        index = (bins + offsets) % self.encode_size
        labels = angle_targets.new_zeros((angle_targets.size(0), self.encode_size))
        return labels.scatter(1, index, values.to(labels.dtype).expand(index.shape))

    def decode(self, angle_preds: Tensor, keepdim: bool = False) -> Tensor:
        """Angles (radians) of the arg-max bins.

        Args:
            angle_preds (Tensor): (..., encode_size) label scores.
            keepdim (bool): keep the last dimension (size 1). Defaults to False.

        Returns:
            Tensor: (..., 1) with ``keepdim``, else (...); of ``angle_preds``' dtype.
        """
        if angle_preds.numel() == 0:
            shape = list(angle_preds.shape)
            return angle_preds.new_zeros(shape[:-1] + [1] if keepdim else shape[:-1])
        bins = torch.argmax(angle_preds, dim=-1, keepdim=keepdim)
        degrees = ((bins + 0.5) * self.omega) % self.angle_range - self.angle_offset
        return (degrees * (math.pi / 180)).to(angle_preds.dtype)
