"""PatchGAN discriminator (Isola et al., CVPR 2017), mmagic's ``PatchDiscriminator`` interface."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from visiondiv.registry import MODELS


@MODELS.register_module()
class PatchDiscriminator(BaseModule):
    """Classify every overlapping ``70 x 70`` patch (for ``num_conv=3``) of an image as real or fake.

    A 4x4 stride-2 convolution with LeakyReLU (slope 0.2) and no norm, ``num_conv`` 4x4 convolutions with
    ``norm_cfg`` and LeakyReLU (stride 2 but the last, which keeps the resolution; so ``num_conv`` stride-2
    layers in all), then a 4x4 convolution to one channel.

    Args:
        in_channels (int): Image channels.
        base_channels (int): Channels of the first convolution; doubled by each following normalised
            convolution, at most 8x. Defaults to 64.
        num_conv (int): Number of stride-2 convolutions (the receptive field grows with it); at least 1.
            Defaults to 3.
        norm_cfg (dict): Normalisation after every convolution but the first and the last
            (``IN`` as in CycleGAN, ``BN`` as in pix2pix). Defaults to ``dict(type='IN')``.
        init_cfg (dict, optional): Weight initialisation: N(0, 0.02) on every ``Conv2d`` as in CycleGAN.
            Defaults to ``dict(type='Normal', std=0.02, layer='Conv2d')``.

    Raises:
        ValueError: If ``num_conv`` < 1.

    Returns (forward): (N, 1, h, w) logits, one per patch.
    """

    def __init__(self, in_channels: int, base_channels: int = 64, num_conv: int = 3,
                 norm_cfg: dict = dict(type='IN'), init_cfg: Optional[dict] = dict(type='Normal', std=0.02,
                                                                                   layer='Conv2d')) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_conv < 1:
            raise ValueError(f'PatchDiscriminator: num_conv must be >= 1, got {num_conv}')
        act = dict(type='LeakyReLU', negative_slope=0.2)
        layers = [ConvModule(in_channels, base_channels, 4, stride=2, padding=1, norm_cfg=None, act_cfg=act)]
        mult = 1
        for n in range(1, num_conv + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < num_conv else 1      # the last of these keeps the resolution
            layers.append(ConvModule(base_channels * prev, base_channels * mult, 4, stride=stride, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act))
        layers.append(nn.Conv2d(base_channels * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Patch logits of ``x`` (N, C, H, W)."""
        return self.model(x)
