"""A light ENet-style encoder-decoder (Paszke et al., 2016), the network of the SFDA papers."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from visiondiv.registry import MODELS


def _bn_act(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(channels), nn.PReLU(channels))


class InitialBlock(nn.Module):
    """3x3 stride-2 conv concatenated with a max-pooled copy of the input.

    Then BatchNorm and PReLU; the output has half the input's height and width (rounded up).

    Args:
        in_channels (int): Input channels; the max-pooled copy keeps them.
        out_channels (int): Output channels: ``out_channels - in_channels`` from the convolution plus the
            ``in_channels`` of the pooled copy, so it must exceed ``in_channels``.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels - in_channels, 3, stride=2, padding=1, bias=False)
        self.post = _bn_act(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.post(torch.cat([self.conv(x), F.max_pool2d(x, 2, ceil_mode=True)], 1))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (dilated or asymmetric 5x1/1x5) conv, 1x1 expand, plus the shortcut.

    The inner width is ``max(channels // 4, 4)``; the branch ends with BatchNorm and spatial dropout, and PReLU
    follows the sum. The size and the channels are kept.

    Args:
        channels (int): Input and output channels.
        dilation (int): Dilation (and padding) of the 3x3 conv; unused when ``asymmetric``. Defaults to 1.
        asymmetric (bool): Use a 5x1 then a 1x5 conv instead of the 3x3 one. Defaults to False.
        dropout (float): ``Dropout2d`` probability at the end of the branch. Defaults to 0.01.
    """

    def __init__(self, channels: int, dilation: int = 1, asymmetric: bool = False, dropout: float = 0.01) -> None:
        super().__init__()
        inner = max(channels // 4, 4)
        if asymmetric:
            mid = nn.Sequential(nn.Conv2d(inner, inner, (5, 1), padding=(2, 0), bias=False),
                                nn.Conv2d(inner, inner, (1, 5), padding=(0, 2), bias=False))
        else:
            mid = nn.Conv2d(inner, inner, 3, padding=dilation, dilation=dilation, bias=False)
        self.branch = nn.Sequential(nn.Conv2d(channels, inner, 1, bias=False), _bn_act(inner), mid, _bn_act(inner),
                                    nn.Conv2d(inner, channels, 1, bias=False), nn.BatchNorm2d(channels),
                                    nn.Dropout2d(dropout))
        self.act = nn.PReLU(channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(x + self.branch(x))


class Down(nn.Module):
    """Strided bottleneck that widens the channels; the shortcut is max-pooled and zero-padded.

    The branch is a 2x2 stride-2 conv to ``max(in_channels // 4, 4)`` channels, a 3x3 conv and a 1x1 conv to
    ``out_channels``; the shortcut is max-pooled (2x2, rounded up, then cropped to the branch's size) and its
    channels are zero-padded to ``out_channels``. PReLU follows the sum.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, at least ``in_channels`` (``ENet`` uses 4x, then 2x).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        inner = max(in_channels // 4, 4)
        self.branch = nn.Sequential(nn.Conv2d(in_channels, inner, 2, stride=2, bias=False), _bn_act(inner),
                                    nn.Conv2d(inner, inner, 3, padding=1, bias=False), _bn_act(inner),
                                    nn.Conv2d(inner, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        self.extra = out_channels - in_channels
        self.act = nn.PReLU(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        branch = self.branch(x)
        short = F.max_pool2d(x, 2, ceil_mode=True)[..., :branch.shape[-2], :branch.shape[-1]]
        short = F.pad(short, (0, 0, 0, 0, 0, self.extra))
        return self.act(branch + short)


class Up(nn.Module):
    """Transposed-conv upsampling to a skip feature's size, then a bottleneck.

    ``forward(x, size)`` upsamples 2x with a 2x2 stride-2 transposed conv, then pads (on the bottom and
    right) to ``size`` (H, W), then applies BatchNorm, PReLU and a :class:`Bottleneck`.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2, bias=False)
        self.post = _bn_act(out_channels)
        self.block = Bottleneck(out_channels)

    def forward(self, x: Tensor, size) -> Tensor:
        x = self.up(x)
        x = F.pad(x, (0, size[1] - x.shape[-1], 0, size[0] - x.shape[-2]))
        return self.block(self.post(x))


@MODELS.register_module()
class ENet(BaseModule):
    """ENet-style network as an mmseg backbone; returns [full-resolution features] for a 1x1 head.

    ``forward`` maps (N, in_channels, H, W) images to a one-element list holding (N, base_channels, H, W)
    features (``out_channels`` = ``base_channels``).

    Args:
        in_channels (int): Image channels (1 for MR/CT slices). Defaults to 1.
        base_channels (int): Width of the first stage (ENet uses 16; stages use x4 and x8). Defaults to 16.
        stage_blocks (Sequence[int]): Bottlenecks in the two encoder stages and the middle stage; the second
            and third counts make one dilated stage (dilations 1, 2, 4 and an asymmetric block, cycled).
            Defaults to ``(2, 2, 4)``.
        init_cfg (dict or list[dict], optional): mmengine init config. Defaults to None.
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 16, stage_blocks: Sequence[int] = (2, 2, 4),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        c1, c2, c3 = base_channels, base_channels * 4, base_channels * 8
        self.initial = InitialBlock(in_channels, c1)
        self.down1 = Down(c1, c2)
        self.stage1 = nn.Sequential(*[Bottleneck(c2) for _ in range(stage_blocks[0])])
        self.down2 = Down(c2, c3)
        self.stage2 = nn.Sequential(*[Bottleneck(c3, dilation=2 ** (i % 4), asymmetric=(i % 4 == 3))
                                      for i in range(stage_blocks[1] + stage_blocks[2])])
        self.up1 = Up(c3, c2)
        self.up2 = Up(c2, c1)
        self.up3 = nn.ConvTranspose2d(c1, c1, 2, stride=2, bias=False)
        self.out_channels = c1

    def forward(self, x: Tensor) -> List[Tensor]:
        size = x.shape[-2:]
        x0 = self.initial(x)
        x1 = self.stage1(self.down1(x0))
        x2 = self.stage2(self.down2(x1))
        y = self.up1(x2, x1.shape[-2:])
        y = self.up2(y, x0.shape[-2:])
        y = self.up3(y)
        return [F.pad(y, (0, size[1] - y.shape[-1], 0, size[0] - y.shape[-2]))]
