"""ResNet-based image-to-image generator (Johnson et al. 2016; CycleGAN), mmagic's ``ResnetGenerator`` interface."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from visiondiv.registry import MODELS


class ResidualBlockWithDropout(nn.Module):
    """Two 3x3 convolutions (reflection padding by default) and an identity shortcut (optional dropout between).

    The padding is ``padding_mode`` (``ResnetGenerator`` passes ``'reflect'`` by default); the first
    convolution is followed by ReLU, the second has no activation. The channels and the size are kept.

    Args:
        channels (int): Input and output channels.
        padding_mode (str): Padding of both convolutions, e.g. ``'reflect'`` or ``'zeros'``.
        norm_cfg (dict): Normalisation after both convolutions.
        use_dropout (bool): ``Dropout(0.5)`` between the two convolutions.
    """

    def __init__(self, channels: int, padding_mode: str, norm_cfg: dict, use_dropout: bool) -> None:
        super().__init__()
        layers = [ConvModule(channels, channels, 3, padding=1, padding_mode=padding_mode, norm_cfg=norm_cfg)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers.append(ConvModule(channels, channels, 3, padding=1, padding_mode=padding_mode, norm_cfg=norm_cfg,
                                 act_cfg=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


@MODELS.register_module()
class ResnetGenerator(BaseModule):
    """Encoder (7x7 conv, two stride-2 convs), ``num_blocks`` residual blocks, decoder, tanh output in [-1, 1].

    Args:
        in_channels (int): Input image channels.
        out_channels (int): Output image channels.
        base_channels (int): Channels after the first convolution (x2, x4 after the downsamplings).
            Defaults to 64.
        norm_cfg (dict): Normalisation of every convolution but the last (``IN``: instance norm, as in
            CycleGAN). Defaults to ``dict(type='IN')``.
        use_dropout (bool): Dropout (0.5) in the residual blocks. Defaults to False.
        num_blocks (int): Residual blocks, >= 0 (9 in CycleGAN at 256 px, 6 at 128 px). Defaults to 9.
        padding_mode (str): Padding of the 7x7 convolutions and of the residual blocks' 3x3 ones (the stride-2
            and transposed convolutions pad with zeros). Defaults to ``'reflect'``.
        init_cfg (dict, optional): Weight initialisation: N(0, 0.02) on every ``Conv2d`` and ``ConvTranspose2d``
            as in CycleGAN. Defaults to ``dict(type='Normal', std=0.02, layer=['Conv2d', 'ConvTranspose2d'])``.

    Raises:
        ValueError: If ``num_blocks`` < 0.

    Inputs whose height and width are multiples of 4 come back at the same size.
    """

    def __init__(self, in_channels: int, out_channels: int, base_channels: int = 64, norm_cfg: dict = dict(type='IN'),
                 use_dropout: bool = False, num_blocks: int = 9, padding_mode: str = 'reflect',
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.02, layer=['Conv2d', 'ConvTranspose2d'])
                 ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_blocks < 0:
            raise ValueError(f'ResnetGenerator: num_blocks must be >= 0, got {num_blocks}')
        c = base_channels
        layers = [ConvModule(in_channels, c, 7, padding=3, padding_mode=padding_mode, norm_cfg=norm_cfg)]
        for mult in (1, 2):                                   # downsample twice
            layers.append(ConvModule(c * mult, c * mult * 2, 3, stride=2, padding=1, norm_cfg=norm_cfg))
        layers += [ResidualBlockWithDropout(c * 4, padding_mode, norm_cfg, use_dropout) for _ in range(num_blocks)]
        for mult in (4, 2):                                   # upsample twice
            layers.append(ConvModule(c * mult, c * mult // 2, 3, stride=2, padding=1, norm_cfg=norm_cfg,
                                     conv_cfg=dict(type='deconv', output_padding=1)))
        layers.append(ConvModule(c, out_channels, 7, padding=3, padding_mode=padding_mode, norm_cfg=None,
                                 act_cfg=dict(type='Tanh')))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Translate ``x`` (N, C, H, W) to (N, out_channels, H, W) in [-1, 1]."""
        return self.model(x)
