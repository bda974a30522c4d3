"""Oriented convolution and rotation-invariant pooling of S2ANet's refine head (mmrotate's ``models/utils``).

``ORConv2d`` keeps ``nOrientation`` copies of each filter and turns them into ``nRotation`` rotated
filters with mmcv's ``active_rotated_filter`` (CPU kernel in mmcv 2.1.0); its parameter and buffer names
(``weight``, ``bias``, ``indices``) are mmrotate's.
"""
import math

import torch
import torch.nn.functional as F
from mmcv.ops import active_rotated_filter
from mmengine.utils import to_2tuple
from torch import Tensor, nn

from ..utils.fp32_loss import autocast_disabled

#: for a k x k kernel (k = 1 or 3) and a rotation in degrees: the 1-based tap each tap takes its weight from
_KERNEL_INDICES = {
    1: {angle: (1,) for angle in range(0, 360, 45)},
    3: {
        0: (1, 2, 3, 4, 5, 6, 7, 8, 9),
        45: (2, 3, 6, 1, 5, 9, 4, 7, 8),
        90: (3, 6, 9, 2, 5, 8, 1, 4, 7),
        135: (6, 9, 8, 3, 5, 7, 2, 1, 4),
        180: (9, 8, 7, 6, 5, 4, 3, 2, 1),
        225: (8, 7, 4, 9, 5, 1, 6, 3, 2),
        270: (7, 4, 1, 8, 5, 2, 9, 6, 3),
        315: (4, 1, 2, 7, 5, 3, 8, 9, 6),
    },
}


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


class ORConv2d(nn.Conv2d):
    """Oriented 2-D convolution (active rotating filters).

    The weight has shape (out, in, nOrientation, k, k); the convolution uses its ``nRotation`` rotations,
    so the output has ``out * nRotation`` channels and the input ``in * nOrientation``.

    Args:
        in_channels (int): Input channels per orientation.
        out_channels (int): Output channels per rotation.
        kernel_size (int): 1 or 3. Defaults to 3.
        arf_config (int | tuple[int, int]): (nOrientation, nRotation), powers of two up to 8. Defaults to 1.
        stride (int): Stride. Defaults to 1.
        padding (int): Zero padding. Defaults to 0.
        dilation (int): Dilation. Defaults to 1.
        groups (int): Groups. Defaults to 1.
        bias (bool): Learn a bias of ``out * nRotation`` values. Defaults to True.

    Raises:
        ValueError: If nOrientation or nRotation is not a power of two up to 8, or ``kernel_size`` is not 1 or 3.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, arf_config=1, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1, bias: bool = True) -> None:
        self.nOrientation, self.nRotation = to_2tuple(arf_config)
        for name, n in (('nOrientation', self.nOrientation), ('nRotation', self.nRotation)):
            if not (_is_power_of_two(n) and n <= 8):
                raise ValueError(f'ORConv2d: arf_config {name} must be a power of two up to 8, got {n}')
        if to_2tuple(kernel_size)[0] not in _KERNEL_INDICES or len(set(to_2tuple(kernel_size))) != 1:
            raise ValueError(f'ORConv2d: kernel_size must be 1 or 3, got {kernel_size}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
        self.register_buffer('indices', self.get_indices())
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, self.nOrientation, *self.kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels * self.nRotation))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal weights (fan-in over orientations and taps), zero bias."""
        if not hasattr(self, 'nOrientation') or self.weight.dim() != 5:
            return   # nn.Conv2d.__init__ calls this before the oriented weight exists
        n = self.in_channels * self.nOrientation * math.prod(self.kernel_size)
        self.weight.data.normal_(0, math.sqrt(2.0 / n))
        if self.bias is not None:
            self.bias.data.zero_()

    def get_indices(self) -> Tensor:
        """The (nOrientation, k, k, nRotation) int32 table that ``active_rotated_filter`` reads (1-based)."""
        k_h, k_w = self.kernel_size
        d_orientation = 360 / self.nOrientation
        d_rotation = 360 / self.nRotation
        indices = torch.empty(self.nOrientation * k_h * k_w, self.nRotation, dtype=torch.int32)
        for i in range(self.nOrientation):
            for j in range(k_h * k_w):
                for k in range(self.nRotation):
                    angle = d_rotation * k
                    layer = (i + math.floor(angle / d_orientation)) % self.nOrientation
                    kernel = _KERNEL_INDICES[k_w][int(angle)][j]
                    indices[i * k_h * k_w + j, k] = int(layer * k_h * k_w + kernel)
        return indices.view(self.nOrientation, k_h, k_w, self.nRotation)

    def rotate_arf(self) -> Tensor:
        """The rotated filters, (out * nRotation, in * nOrientation, k, k), in fp32."""
        with autocast_disabled():
            return active_rotated_filter(self.weight.float(), self.indices)

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` with the rotated filters."""
        weight = self.rotate_arf()
        if not torch.is_autocast_enabled(x.device.type):
            weight = weight.to(x.dtype)   # under autocast F.conv2d casts both itself
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class RotationInvariantPooling(nn.Module):
    """Max over the ``nOrientation`` channels of each feature (channels grouped as (C, nOrientation)).

    Args:
        nInputPlane (int): Input channels (C * nOrientation).
        nOrientation (int): Orientations per feature. Defaults to 8.
    """

    def __init__(self, nInputPlane: int, nOrientation: int = 8) -> None:
        super().__init__()
        self.nInputPlane = nInputPlane
        self.nOrientation = nOrientation

    def forward(self, x: Tensor) -> Tensor:
        """(N, C * nOrientation, H, W) -> (N, C, H, W)."""
        n, _, h, w = x.shape
        return x.view(n, -1, self.nOrientation, h, w).amax(dim=2)
