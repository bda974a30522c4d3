"""mmpretrain's ``GlobalAveragePooling`` neck: (N, C, ...) feature maps -> (N, C) vectors."""
from typing import Sequence, Tuple, Union

from mmengine.model import BaseModule
from torch import Tensor, nn

from visiondiv.registry import MODELS


@MODELS.register_module()
class GlobalAveragePooling(BaseModule):
    """Average each feature map over its spatial dimensions: (N, C, *spatial) -> (N, C).

    A tuple (or list) of maps gives a tuple of vectors, one per map (the backbones' ``out_indices``); a tensor
    gives a tensor, as mmpretrain's neck.

    Args:
        dim (int): Number of spatial dimensions, 1, 2 or 3. Defaults to 2.

    Raises:
        ValueError: ``dim`` not in (1, 2, 3); in ``forward``, a map without ``dim`` spatial dimensions.
    """

    def __init__(self, dim: int = 2) -> None:
        super().__init__()
        if dim not in (1, 2, 3) or isinstance(dim, bool):
            raise ValueError(f'GlobalAveragePooling: dim must be 1, 2 or 3, got {dim!r}')
        self.dim = dim
        self.gap = {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d}[dim](1)

    def _pool(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != self.dim + 2:
            raise ValueError(f'GlobalAveragePooling: dim={self.dim} needs (N, C, {", ".join("HWD"[:self.dim])}) '
                             f'maps, got {getattr(x, "shape", type(x).__name__)}')
        return self.gap(x).reshape(x.size(0), -1)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Union[Tensor, Tuple[Tensor, ...]]:
        """A map or a tuple of maps -> the pooled (N, C) vector(s)."""
        if isinstance(inputs, (tuple, list)):
            return tuple(self._pool(x) for x in inputs)
        return self._pool(inputs)
