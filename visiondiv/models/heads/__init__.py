from .dino_head import DINOHead
from .linear_cls_head import LinearClsHead

__all__ = ['DINOHead', 'LinearClsHead']
