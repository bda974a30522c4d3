from .cifar_resnet import CIFARResNet
from .enet import ENet
from .small_convnet import SmallConvNet
from .vit_cls import CLSTokenVisionTransformer
from .wide_resnet import WideResNet

__all__ = ['ENet', 'SmallConvNet', 'CLSTokenVisionTransformer', 'CIFARResNet', 'WideResNet']
