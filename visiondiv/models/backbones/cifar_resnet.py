"""The CIFAR ResNets of the knowledge-distillation tables (CRD, mdistiller): resnet8..110, resnet8x4, resnet32x4.

A 3x3 stem and three stages of basic blocks at 32x32, 16x16 and 8x8 (He et al., 2016, section 4.2), written as
mdistiller's ``mdistiller/models/cifar/resnet.py`` (itself CRD's ``models/resnet.py``) with the same module names,
so that a CRD / mdistiller CIFAR checkpoint loads with its keys prefixed: ``conv1.weight`` ->
``backbone.conv1.weight``, ``layer1.0.bn1.weight`` -> ``backbone.layer1.0.bn1.weight``, ``fc.*`` -> ``head.fc.*``.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn import functional as F

from visiondiv.registry import MODELS


class CIFARBasicBlock(nn.Module):
    """mdistiller's ``BasicBlock``: conv3x3-BN-ReLU-conv3x3-BN, plus the (projected) input, then ReLU.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv. Defaults to 1.
        downsample (nn.Module, optional): 1x1 conv + BN projecting the input when the shape changes.
            Defaults to None.
        norm_cfg (dict): mmcv norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, downsample: Optional[nn.Module] = None,
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


@MODELS.register_module()
class CIFARResNet(BaseModule):
    """A CIFAR ResNet of basic blocks (depth 6n + 2): the students and teachers of the CIFAR-100 KD tables.

    ``forward(x)`` returns the tuple of the outputs of the stages in ``out_indices`` (0, 1, 2: 32x32, 16x16 and
    8x8 for 32x32 inputs); add a ``GlobalAveragePooling`` neck and a ``LinearClsHead`` for a classifier
    (mdistiller's ``AvgPool2d(8)`` + ``fc``). ``arch`` names mdistiller's constructors; parameters with a
    100-class ``LinearClsHead`` (mdistiller's totals, checked in the tests; the fc has ``(channels[3] + 1) * 100``):

    ============  =====  ======================  =====================  =================
    arch          depth  channels (stem, stages)  backbone parameters    with a 100-way fc
    ============  =====  ======================  =====================  =================
    resnet8       8      16, 16, 32, 64          77,392                 83,892 (0.08M)
    resnet14      14     16, 16, 32, 64          174,608                181,108 (0.18M)
    resnet20      20     16, 16, 32, 64          271,824                278,324 (0.28M)
    resnet32      32     16, 16, 32, 64          466,256                472,756 (0.47M)
    resnet44      44     16, 16, 32, 64          660,688                667,188 (0.67M)
    resnet56      56     16, 16, 32, 64          855,120                861,620 (0.86M)
    resnet110     110    16, 16, 32, 64          1,730,064              1,736,564 (1.74M)
    resnet8x4     8      32, 64, 128, 256        1,207,840              1,233,540 (1.23M)
    resnet32x4    32     32, 64, 128, 256        7,408,160              7,433,860 (7.43M)
    ============  =====  ======================  =====================  =================

    Published tables (CRD, Tian et al., ICLR 2020; DKD, Zhao et al., CVPR 2022) give resnet8x4 1.23M,
    resnet32x4 7.43M, resnet56 0.86M, resnet20 0.27M / 0.28M and resnet110 1.73M / 1.74M (truncated or rounded).

    Weights are initialised at construction as mdistiller does (conv: Kaiming normal, fan_out, ReLU; norm: 1 and
    0); an ``init_cfg`` applied by ``init_weights`` overrides this.

    Args:
        arch (str, optional): One of :attr:`arch_settings` (``'resnet8x4'``...). Either ``arch`` or ``depth``.
            Defaults to None.
        depth (int, optional): 6n + 2 (8, 14, 20, 32, 44, 56, 110...) with ``channels``. Defaults to None.
        channels (Sequence[int], optional): Stem and stage widths, 4 positive ints; with ``depth``. Defaults to
            ``(16, 16, 32, 64)`` (the x1 nets).
        in_channels (int): Image channels. Defaults to 3.
        out_indices (Sequence[int]): Stages whose outputs ``forward`` returns, in 0..2 (negative ones count from
            the end). Defaults to ``(2, )``.
        norm_cfg (dict): mmcv norm config. Defaults to ``dict(type='BN')``.
        init_cfg (dict or list[dict], optional): mmengine init config. Defaults to None.

    Raises:
        ValueError: An unknown ``arch``, ``arch`` together with ``depth`` / ``channels``, neither of them, a depth
            that is not 6n + 2 (n >= 1), ``channels`` that are not 4 positive ints, or an ``out_indices`` entry
            outside the stages.

    Attributes:
        out_channels (int): Channels of the last stage, ``channels[3]`` (the head's ``in_channels``).
        stage_channels (tuple[int]): ``channels``, as mdistiller's ``get_stage_channels()``.
    """

    #: mdistiller's constructors: arch -> (depth, channels)
    arch_settings: Dict[str, Tuple[int, Tuple[int, int, int, int]]] = {
        'resnet8': (8, (16, 16, 32, 64)),
        'resnet14': (14, (16, 16, 32, 64)),
        'resnet20': (20, (16, 16, 32, 64)),
        'resnet32': (32, (16, 16, 32, 64)),
        'resnet44': (44, (16, 16, 32, 64)),
        'resnet56': (56, (16, 16, 32, 64)),
        'resnet110': (110, (16, 16, 32, 64)),
        'resnet8x4': (8, (32, 64, 128, 256)),
        'resnet32x4': (32, (32, 64, 128, 256)),
    }

    def __init__(self, arch: Optional[str] = None, depth: Optional[int] = None,
                 channels: Optional[Sequence[int]] = None, in_channels: int = 3, out_indices: Sequence[int] = (2, ),
                 norm_cfg: dict = dict(type='BN'), init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch is not None:
            if depth is not None or channels is not None:
                raise ValueError(f'CIFARResNet: give arch ({arch!r}) or depth/channels, not both')
            if arch not in self.arch_settings:
                raise ValueError(f'CIFARResNet: unknown arch {arch!r}; known: {sorted(self.arch_settings)}')
            depth, channels = self.arch_settings[arch]
        elif depth is None:
            raise ValueError(f'CIFARResNet: give arch (one of {sorted(self.arch_settings)}) or depth')
        channels = tuple(channels) if channels is not None else (16, 16, 32, 64)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f'CIFARResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, 110...), '
                             f'got {depth!r}')
        if len(channels) != 4 or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f'CIFARResNet: channels must be 4 positive ints (stem, 3 stages), got {channels!r}')
        self.out_indices = check_out_indices(out_indices, 3, 'CIFARResNet')
        self.depth, self.stage_channels = depth, channels
        blocks = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels[0])[1]
        self.relu = nn.ReLU(inplace=True)
        in_ch = channels[0]
        for i, (out_ch, stride) in enumerate(zip(channels[1:], (1, 2, 2))):
            layers = []
            for j in range(blocks):
                downsample = None
                if j == 0 and (stride != 1 or in_ch != out_ch):
                    downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                                               build_norm_layer(norm_cfg, out_ch)[1])
                layers.append(CIFARBasicBlock(in_ch, out_ch, stride if j == 0 else 1, downsample, norm_cfg))
                in_ch = out_ch
            self.add_module(f'layer{i + 1}', nn.Sequential(*layers))
        self.out_channels = channels[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(N, in_channels, H, W) images -> the outputs of the stages in ``out_indices``."""
        x = self.relu(self.bn1(self.conv1(x)))
        outs = []
        for i in range(3):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


def check_out_indices(out_indices: Union[int, Sequence[int]], num_stages: int, owner: str) -> Tuple[int, ...]:
    """``out_indices`` of a backbone, negative entries counted from the end, checked to name distinct stages.

    Args:
        out_indices (int | Sequence[int]): Stage indices, in ``-num_stages .. num_stages - 1``.
        num_stages (int): The backbone's number of stages.
        owner (str): The backbone's name, which starts the error message.

    Returns:
        tuple[int]: The indices in ``0 .. num_stages - 1``, sorted.

    Raises:
        ValueError: An entry that is not a stage index, a repeated stage, or no stage.
    """
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    result = []
    for i in out_indices:
        if isinstance(i, bool) or not isinstance(i, int) or not -num_stages <= i < num_stages:
            raise ValueError(f'{owner}: out_indices must be stage indices in 0..{num_stages - 1} (or negative), '
                             f'got {tuple(out_indices)!r}')
        result.append(i % num_stages)
    if not result or len(set(result)) != len(result):
        raise ValueError(f'{owner}: out_indices must name distinct stages, got {tuple(out_indices)!r}')
    return tuple(sorted(result))
