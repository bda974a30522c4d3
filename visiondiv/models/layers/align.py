"""Feature alignment modules of the refine-stage heads (mmrotate's ``models/layers/align.py``).

``FRM`` (R3Det) re-samples each location's feature at the points of its box from the previous stage
(mmcv ``rotated_feature_align``); ``AlignConv`` (S2ANet) is a deformable 3x3 convolution whose sampling
grid is the box's own grid (mmcv ``DeformConv2d``). Both mmcv ops have CPU kernels in mmcv 2.1.0 (forward
and backward) that take fp32 only, so they run in fp32 with autocast off and cast back.
Module and parameter names are mmrotate's, so its checkpoints load.
"""
from typing import List, Sequence

import torch
from mmcv.ops import DeformConv2d, DeformConv2dPack, rotated_feature_align
from mmengine.model import BaseModule, normal_init
from torch import Tensor, nn

from visiondiv.registry import MODELS
from ..utils.fp32_loss import autocast_disabled


def per_level(rois: List[List[Tensor]]) -> List[Tensor]:
    """Per-image, per-level boxes (``rois[img][lvl]``, (H*W, 5) each) stacked by level: (N, H*W, 5) each.

    Args:
        rois (list[list[Tensor]]): The previous stage's boxes, one list of levels per image.

    Returns:
        list[Tensor]: One (N, H*W, 5) tensor per level.
    """
    return [torch.stack(level) for level in zip(*rois)]


def fixed_offset_deform_conv(x: Tensor, offset: Tensor, weight: Tensor, kernel_size: int) -> Tensor:
    """mmcv's ``DeformConv2d`` (stride 1, 'same' padding, one group) for offsets that need no gradient.

    The same bilinear sampling as mmcv's kernel (a corner outside the map contributes zero), written as one
    ``grid_sample`` per batch and a matrix product; autograd gives the input and weight gradients. On CPU it
    is several times faster than mmcv's kernel, whose backward also computes the offset gradient.

    Args:
        x (Tensor): (N, C, H, W) input.
        offset (Tensor): (N, 2 k^2, H, W) offsets, (dy, dx) per tap, taps in row-major order (mmcv's layout).
        weight (Tensor): (O, C, k, k) convolution weight.
        kernel_size (int): Odd k.

    Returns:
        Tensor: (N, O, H, W).
    """
    n, c, h, w = x.shape
    kk = kernel_size * kernel_size
    pad = (kernel_size - 1) // 2
    taps = torch.arange(kernel_size, dtype=x.dtype, device=x.device) - pad
    tap_y, tap_x = (t.reshape(1, kk, 1, 1) for t in torch.meshgrid(taps, taps, indexing='ij'))
    offset = offset.to(x.dtype).reshape(n, kk, 2, h, w)
    rows = torch.arange(h, dtype=x.dtype, device=x.device).reshape(1, 1, h, 1)
    cols = torch.arange(w, dtype=x.dtype, device=x.device).reshape(1, 1, 1, w)
    py = rows + tap_y + offset[:, :, 0]                                     # (N, k^2, H, W) pixel coordinates
    px = cols + tap_x + offset[:, :, 1]
    # pixel centre p -> (2 p + 1) / size - 1 under align_corners=False; zero padding outside
    grid = torch.stack([(2 * px + 1) / w - 1, (2 * py + 1) / h - 1], dim=-1).reshape(n, kk * h, w, 2)
    sampled = nn.functional.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    sampled = sampled.reshape(n, c * kk, h * w)                             # channel-major, then tap
    return torch.matmul(weight.reshape(weight.size(0), c * kk).to(x.dtype), sampled).reshape(n, -1, h, w)


@MODELS.register_module()
class FRM(BaseModule):
    """R3Det's feature refinement module: ``x + rotated_feature_align(conv5x1(conv1x5(x)) + conv1x1(x), boxes)``.

    Args:
        feat_channels (int): Channels of the input (and output) feature maps.
        strides (Sequence[int]): Stride of each level; the boxes are scaled by ``1 / stride``.
        init_cfg (dict | list[dict], optional): mmengine initialisation config. Defaults to None
            (the convolutions get N(0, 0.01) weights in :meth:`init_weights`).
    """

    def __init__(self, feat_channels: int, strides: Sequence[int], init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.feat_channels = feat_channels
        self.strides = list(strides)
        self.conv_5_1 = nn.Conv2d(feat_channels, feat_channels, kernel_size=(5, 1), padding=(2, 0))
        self.conv_1_5 = nn.Conv2d(feat_channels, feat_channels, kernel_size=(1, 5), padding=(0, 2))
        self.conv_1_1 = nn.Conv2d(feat_channels, feat_channels, kernel_size=1)

    def init_weights(self) -> None:
        """N(0, 0.01) weights and zero biases for the three convolutions (mmrotate's initialisation)."""
        for conv in (self.conv_5_1, self.conv_1_5, self.conv_1_1):
            normal_init(conv, std=0.01)

    def forward(self, x: Sequence[Tensor], rois: List[List[Tensor]]) -> List[Tensor]:
        """Refine each level's features at the previous stage's boxes.

        Args:
            x (Sequence[Tensor]): Feature maps, (N, C, H, W) per level.
            rois (list[list[Tensor]]): The previous stage's boxes, ``rois[img][lvl]`` of shape (H*W, 5),
                one per location in row-major order, (cx, cy, w, h, angle) in input-image pixels.

        Returns:
            list[Tensor]: Refined feature maps, same shapes and dtypes as ``x``.
        """
        if len(x) != len(self.strides):
            raise ValueError(f'FRM has {len(self.strides)} strides but got {len(x)} feature levels')
        out = []
        for feat, boxes, stride in zip(x, per_level(rois), self.strides):
            n, _, h, w = feat.shape
            refined = self.conv_5_1(self.conv_1_5(feat)) + self.conv_1_1(feat)
            with autocast_disabled():
                aligned = rotated_feature_align(refined.float().contiguous(),
                                                boxes.float().reshape(n, h, w, 5).contiguous(), 1 / stride)
            out.append(feat + aligned.to(feat.dtype))
        return out


@MODELS.register_module()
class AlignConv(BaseModule):
    """S2ANet's alignment convolution: a ``DeformConv2d`` sampling each box's own k x k grid.

    The offset of kernel tap (i, j) at location (y, x) moves it from ``(y + i, x + j)`` to the point
    ``(j w / k, i h / k)`` of the box, rotated by its angle and put at its centre (all in feature-map
    units); the offsets carry no gradient. mmcv 2.1.0 has a CPU kernel for ``DeformConv2d`` (forward and
    backward, fp32/fp64); on CPU the same convolution runs as :func:`fixed_offset_deform_conv` (no offset
    gradient to compute: several times faster), elsewhere (and with deform groups) through mmcv's op.

    Args:
        feat_channels (int): Channels of the input (and output) feature maps.
        kernel_size (int): Odd kernel size k.
        strides (Sequence[int]): Stride of each level.
        deform_groups (int): Deformable groups of the convolution. Defaults to 1.
        init_cfg (dict | list[dict], optional): mmengine initialisation config. Defaults to None
            (N(0, 0.01) weights in :meth:`init_weights`).

    Raises:
        ValueError: If ``kernel_size`` is not odd.
    """

    def __init__(self, feat_channels: int, kernel_size: int, strides: Sequence[int], deform_groups: int = 1,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size % 2 != 1:
            raise ValueError(f'AlignConv: kernel_size must be odd, got {kernel_size}')
        self.feat_channels = feat_channels
        self.kernel_size = kernel_size
        self.strides = list(strides)
        self.deform_conv = DeformConv2d(feat_channels, feat_channels, kernel_size=kernel_size,
                                        padding=(kernel_size - 1) // 2, deform_groups=deform_groups)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self) -> None:
        """N(0, 0.01) weights for the deformable convolution (mmrotate's initialisation)."""
        normal_init(self.deform_conv, std=0.01)

    @torch.no_grad()
    def get_offset(self, anchors: Tensor, featmap_size: Sequence[int], stride: int) -> Tensor:
        """The deformable-convolution offsets that put the kernel taps on the boxes' grids.

        Args:
            anchors (Tensor): (H*W, 5) boxes (cx, cy, w, h, angle) in input pixels, one per location, row-major.
            featmap_size (Sequence[int]): (H, W).
            stride (int): The level's stride.

        Returns:
            Tensor: (2 k^2, H, W) offsets, (dy, dx) per tap, taps in row-major order.
        """
        dtype, device = anchors.dtype, anchors.device
        feat_h, feat_w = featmap_size
        pad = (self.kernel_size - 1) // 2
        idx = torch.arange(-pad, pad + 1, dtype=dtype, device=device)
        yy, xx = torch.meshgrid(idx, idx, indexing='ij')
        xx, yy = xx.reshape(-1), yy.reshape(-1)
        yc, xc = torch.meshgrid(torch.arange(feat_h, dtype=dtype, device=device),
                                torch.arange(feat_w, dtype=dtype, device=device), indexing='ij')
        x_conv = xc.reshape(-1)[:, None] + xx
        y_conv = yc.reshape(-1)[:, None] + yy
        x_ctr, y_ctr, w, h, a = (anchors / anchors.new_tensor([stride, stride, stride, stride, 1])).unbind(1)
        cos, sin = torch.cos(a), torch.sin(a)
        x = (w / self.kernel_size)[:, None] * xx
        y = (h / self.kernel_size)[:, None] * yy
        x_anchor = cos[:, None] * x - sin[:, None] * y + x_ctr[:, None]
        y_anchor = sin[:, None] * x + cos[:, None] * y + y_ctr[:, None]
        offset = torch.stack([y_anchor - y_conv, x_anchor - x_conv], dim=-1)   # mmcv wants (dy, dx)
        return offset.reshape(anchors.size(0), -1).permute(1, 0).reshape(-1, feat_h, feat_w)

    def forward_single(self, x: Tensor, anchors: Tensor, stride: int) -> Tensor:
        """Aligned features of one level: ``x`` (N, C, H, W), ``anchors`` (N, H*W, 5)."""
        h, w = x.shape[-2:]
        offset = torch.stack([self.get_offset(a.float(), (h, w), stride) for a in anchors])
        with autocast_disabled():
            if x.device.type == 'cpu' and self.deform_conv.deform_groups == 1 and self.deform_conv.groups == 1:
                out = fixed_offset_deform_conv(x.float(), offset, self.deform_conv.weight, self.kernel_size)
            else:   # every deformable group samples the same box grid (mmrotate's offsets fit one group only)
                out = self.deform_conv(x.float(), offset.repeat(1, self.deform_conv.deform_groups, 1, 1))
        return self.relu(out.to(x.dtype))

    def forward(self, x: Sequence[Tensor], rois: List[List[Tensor]]) -> List[Tensor]:
        """Aligned features of every level.

        Args:
            x (Sequence[Tensor]): Feature maps, (N, C, H, W) per level.
            rois (list[list[Tensor]]): The previous stage's boxes, ``rois[img][lvl]`` of shape (H*W, 5).

        Returns:
            list[Tensor]: Aligned feature maps, same shapes and dtypes as ``x``.
        """
        if len(x) != len(self.strides):
            raise ValueError(f'AlignConv has {len(self.strides)} strides but got {len(x)} feature levels')
        return [self.forward_single(feat, boxes, stride)
                for feat, boxes, stride in zip(x, per_level(rois), self.strides)]


@MODELS.register_module()
class PseudoAlignModule(BaseModule):
    """No alignment: returns the features as they are (mmrotate's ablation module)."""

    def forward(self, x: Sequence[Tensor], rois: List[List[Tensor]]) -> Sequence[Tensor]:
        """Return ``x`` unchanged; ``rois`` is ignored."""
        return x


@MODELS.register_module()
class DCNAlignModule(DeformConv2dPack):
    """A ``DeformConv2dPack`` (offsets learnt from the features) applied to every level; boxes are ignored.

    Args:
        *args: Positional arguments of mmcv's ``DeformConv2dPack``.
        **kwargs: Keyword arguments of mmcv's ``DeformConv2dPack``.
    """

    def forward(self, x: Sequence[Tensor], rois: List[List[Tensor]]) -> List[Tensor]:  # type: ignore[override]
        """The deformable convolution of each level of ``x``; ``rois`` is ignored."""
        return [super(DCNAlignModule, self).forward(xi) for xi in x]
