"""A small conv net for GCD on tiny images (8x8 digits, 28x28 MNIST) that trains in seconds on a CPU."""
from typing import Optional, Sequence, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from visiondiv.registry import MODELS


@MODELS.register_module()
class SmallConvNet(BaseModule):
    """Stages of ``convs_per_stage`` 3x3 conv-BN-ReLU blocks (mmcv ``ConvModule``), 2x2 max pooling between
    stages, global average pooling at the end: ``forward(x) -> (B, widths[-1])``.

    Pooling uses ``ceil_mode`` so odd sizes keep their border (28 -> 14 -> 7; 8 -> 4 -> 2).

    Args:
        in_channels (int): Image channels (1 grey, 3 RGB). Defaults to 1.
        widths (Sequence[int]): Output channels of each stage (positive ints, at least one).
            Defaults to ``(32, 64, 128)``.
        convs_per_stage (int): Conv blocks per stage (a positive int). Defaults to 1.
        norm_cfg (dict, optional): Norm of the conv blocks; None for none. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation of the conv blocks; None for none. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict or list[dict], optional): mmengine init config (ConvModule's own init, Kaiming, when
            None). Defaults to None.

    Raises:
        ValueError: If ``widths`` is empty or not all positive ints, or ``convs_per_stage`` is not a
            positive int.

    Attributes:
        out_channels (int): the feature width ``widths[-1]``.
    """

    def __init__(self,
                 in_channels: int = 1,
                 widths: Sequence[int] = (32, 64, 128),
                 convs_per_stage: int = 1,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        widths = tuple(widths)
        if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f'SmallConvNet: widths must be positive ints, got {widths!r}')
        if not isinstance(convs_per_stage, int) or convs_per_stage < 1:
            raise ValueError(f'SmallConvNet: convs_per_stage must be a positive int, got {convs_per_stage!r}')
        layers, channels = [], in_channels
        for i, width in enumerate(widths):
            if i > 0:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            for _ in range(convs_per_stage):
                layers.append(ConvModule(channels, width, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg))
                channels = width
        self.layers = nn.Sequential(*layers)
        self.out_channels = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_channels, H, W) -> (B, widths[-1]) globally average-pooled features."""
        return self.layers(x).mean(dim=(2, 3))
