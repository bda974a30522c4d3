"""SimGCD's DINOHead: a projection MLP and a cosine classifier on the normalised backbone feature."""
import math
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from visiondiv.registry import MODELS


@MODELS.register_module()
class DINOHead(BaseModule):
    """The head of SimGCD (``model.DINOHead``) and LegoGCD: ``forward(x) -> (proj, logits)``.

    * ``proj = mlp(x)``: Linear-GELU blocks (BatchNorm1d after each hidden Linear with ``use_bn``) ending in a
      Linear to ``bottleneck_channels``; the input of the contrastive losses. With ``num_layers=1`` it is one
      Linear. Linear layers: truncated normal (std 0.02), zero bias (``init_cfg``, applied by
      :meth:`init_weights`, which mmengine's Runner calls).
    * ``logits = F.normalize(x) @ F.normalize(weight, dim=1).T``: the cosine similarity of the (unprojected)
      feature to ``num_classes`` unit-norm prototypes, so ``|logits| <= 1``; the losses divide by their
      temperatures.

    SimGCD builds the classifier as ``nn.utils.weight_norm(nn.Linear(in_dim, out_dim, bias=False))`` with
    ``weight_g`` filled with 1 and frozen (``norm_last_layer=True``): its weight is ``1 * v / ||v||`` per row,
    i.e. exactly ``F.normalize(v, dim=1)``. Here ``weight`` plays ``last_layer.weight_v`` (any positive scale
    of a row gives the same logits), initialised like SimGCD's (``nn.Linear``'s default); a SimGCD
    ``last_layer.weight_v`` loads into ``weight`` as is.

    Args:
        in_channels (int): Backbone feature width (768 for ViT-B).
        num_classes (int): Number of prototypes (known + novel classes).
        num_layers (int): Linear layers of the MLP (>= 1). Defaults to 3.
        hidden_channels (int): Width of its hidden layers. Defaults to 2048.
        bottleneck_channels (int): Width of ``proj``. Defaults to 256.
        use_bn (bool): BatchNorm1d after the hidden Linear layers. Defaults to False.
        init_cfg (dict or list[dict], optional): mmengine init config; it does not touch ``weight`` (not a
            Linear layer). Defaults to ``dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)``.

    Raises:
        ValueError: If ``in_channels``, ``num_classes``, ``num_layers``, ``hidden_channels`` or
            ``bottleneck_channels`` is not a positive int.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_layers: int = 3,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 use_bn: bool = False,
                 init_cfg: Optional[Union[dict, list]] = dict(type='TruncNormal', layer='Linear', std=0.02,
                                                              bias=0.)) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels), ('num_classes', num_classes), ('num_layers', num_layers),
                            ('hidden_channels', hidden_channels), ('bottleneck_channels', bottleneck_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'DINOHead: {name} must be a positive int, got {value!r}')
        self.in_channels, self.num_classes = in_channels, num_classes
        if num_layers == 1:
            self.mlp = nn.Linear(in_channels, bottleneck_channels)
        else:
            layers = []
            for i in range(num_layers - 1):
                layers.append(nn.Linear(in_channels if i == 0 else hidden_channels, hidden_channels))
                if use_bn:
                    layers.append(nn.BatchNorm1d(hidden_channels))
                layers.append(nn.GELU())
            layers.append(nn.Linear(hidden_channels, bottleneck_channels))
            self.mlp = nn.Sequential(*layers)
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        # nn.Linear's default init, as SimGCD's last layer gets (only the rows' directions matter)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, in_channels) features -> (proj (B, bottleneck_channels), logits (B, num_classes))."""
        proj = self.mlp(x)
        logits = F.linear(F.normalize(x, dim=-1), F.normalize(self.weight, dim=1))
        return proj, logits
