from .align import FRM, AlignConv, DCNAlignModule, PseudoAlignModule
from .orconv import ORConv2d, RotationInvariantPooling

__all__ = ['FRM', 'AlignConv', 'PseudoAlignModule', 'DCNAlignModule', 'ORConv2d', 'RotationInvariantPooling']
