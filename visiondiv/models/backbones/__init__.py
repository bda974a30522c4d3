from .enet import ENet
from .small_convnet import SmallConvNet
from .vit_cls import CLSTokenVisionTransformer

__all__ = ['ENet', 'SmallConvNet', 'CLSTokenVisionTransformer']
