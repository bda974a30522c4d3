"""The CIFAR Wide ResNets of the knowledge-distillation tables (CRD, mdistiller): WRN-16-1/2, WRN-40-1/2."""
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn import functional as F

from visiondiv.registry import MODELS
from .cifar_resnet import check_out_indices


class WideBasicBlock(nn.Module):
    """mdistiller's pre-activation WRN ``BasicBlock``: BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3 + shortcut.

    When the widths differ, the shortcut is a 1x1 conv (``convShortcut``, mdistiller's name) of the activated
    input; otherwise the raw input.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv (and of the shortcut). Defaults to 1.
        drop_rate (float): Dropout probability between the convs. Defaults to 0.0.
        norm_cfg (dict): mmcv norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, drop_rate: float = 0.0,
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.drop_rate = drop_rate
        self.equal_in_out = in_channels == out_channels
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(in_channels, out_channels, 1, stride=stride,
                                                                      bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)."""
        act = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(act)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        return out + (x if self.equal_in_out else self.convShortcut(act))


class _NetworkBlock(nn.Module):
    """mdistiller's ``NetworkBlock``: the blocks of one stage in ``self.layer`` (for its state-dict keys)."""

    def __init__(self, blocks: int, in_channels: int, out_channels: int, stride: int, drop_rate: float,
                 norm_cfg: dict) -> None:
        super().__init__()
        self.layer = nn.Sequential(*[
            WideBasicBlock(in_channels if i == 0 else out_channels, out_channels, stride if i == 0 else 1, drop_rate,
                           norm_cfg) for i in range(blocks)])

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x)


@MODELS.register_module()
class WideResNet(BaseModule):
    """A CIFAR Wide ResNet WRN-d-k (Zagoruyko & Komodakis, 2016) as mdistiller's ``mdistiller/models/cifar/wrn.py``.

    A 3x3 conv to 16 channels, three stages of (d - 4) / 6 pre-activation blocks of widths 16k, 32k, 64k (strides
    1, 2, 2), then BN-ReLU. ``forward(x)`` returns the outputs of the stages in ``out_indices``; the last stage's
    output is taken after that final BN-ReLU (what mdistiller pools into its ``fc``), the others are the raw block
    outputs (mdistiller's ``feats``). Module names are mdistiller's (``conv1``, ``block1.layer.0.conv1``,
    ``convShortcut``, ``bn1``), so a CRD / mdistiller checkpoint loads with its keys prefixed ``backbone.``
    (``fc.*`` -> ``head.fc.*``). Parameters (mdistiller's totals, checked in the tests):

    ========  =====  ============  =====================  =================
    name      depth  widen_factor  backbone parameters    with a 100-way fc
    ========  =====  ============  =====================  =================
    WRN-16-1  16     1             174,416                180,916 (0.18M)
    WRN-16-2  16     2             690,384                703,284 (0.70M)
    WRN-40-1  40     1             563,280                569,780 (0.57M)
    WRN-40-2  40     2             2,242,256              2,255,156 (2.26M)
    ========  =====  ============  =====================  =================

    Published (CRD, Tian et al., ICLR 2020): WRN-40-2 2.26M, WRN-16-2 0.70M, WRN-40-1 0.57M. Convs are initialised
    at construction as mdistiller does (normal, std sqrt(2 / (k * k * out_channels))), norms with 1 and 0; an
    ``init_cfg`` applied by ``init_weights`` overrides this.

    Args:
        depth (int): 6n + 4 (16, 22, 28, 40...). Defaults to 40.
        widen_factor (int): k, a positive int. Defaults to 2.
        drop_rate (float): Dropout between the convs of a block, in [0, 1). Defaults to 0.0.
        in_channels (int): Image channels. Defaults to 3.
        out_indices (Sequence[int]): Stages whose outputs ``forward`` returns, in 0..2 (negative ones count from
            the end). Defaults to ``(2, )``.
        norm_cfg (dict): mmcv norm config. Defaults to ``dict(type='BN')``.
        init_cfg (dict or list[dict], optional): mmengine init config. Defaults to None.

    Raises:
        ValueError: A depth that is not 6n + 4 (n >= 1), a ``widen_factor`` that is not a positive int, a
            ``drop_rate`` outside [0, 1), or an ``out_indices`` entry outside the stages.

    Attributes:
        out_channels (int): ``64 * widen_factor`` (the head's ``in_channels``).
        stage_channels (tuple[int]): ``(16, 16k, 32k, 64k)``, as mdistiller's ``get_stage_channels()``.
    """

    def __init__(self, depth: int = 40, widen_factor: int = 2, drop_rate: float = 0.0, in_channels: int = 3,
                 out_indices: Sequence[int] = (2, ), norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ValueError(f'WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 40...), got {depth!r}')
        if isinstance(widen_factor, bool) or not isinstance(widen_factor, int) or widen_factor < 1:
            raise ValueError(f'WideResNet: widen_factor must be a positive int, got {widen_factor!r}')
        if not 0 <= drop_rate < 1:
            raise ValueError(f'WideResNet: drop_rate must be in [0, 1), got {drop_rate!r}')
        self.out_indices = check_out_indices(out_indices, 3, 'WideResNet')
        self.depth, self.widen_factor = depth, widen_factor
        channels = (16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor)
        self.stage_channels = channels
        blocks = (depth - 4) // 6
        self.conv1 = nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False)
        self.block1 = _NetworkBlock(blocks, channels[0], channels[1], 1, drop_rate, norm_cfg)
        self.block2 = _NetworkBlock(blocks, channels[1], channels[2], 2, drop_rate, norm_cfg)
        self.block3 = _NetworkBlock(blocks, channels[2], channels[3], 2, drop_rate, norm_cfg)
        self.bn1 = build_norm_layer(norm_cfg, channels[3])[1]
        self.relu = nn.ReLU(inplace=True)
        self.out_channels = channels[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0, (2.0 / n) ** 0.5)
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """(N, in_channels, H, W) images -> the outputs of the stages in ``out_indices``."""
        x = self.conv1(x)
        outs = []
        for i, block in enumerate((self.block1, self.block2, self.block3)):
            x = block(x)
            if i == 2:
                x = self.relu(self.bn1(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
