from .enet import ENet

__all__ = ['ENet']
from .small_convnet import SmallConvNet  # noqa: E402
from .vit_cls import CLSTokenVisionTransformer  # noqa: E402

__all__ += ['SmallConvNet', 'CLSTokenVisionTransformer']
