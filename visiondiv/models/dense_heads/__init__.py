from .r3_head import R3Head, R3RefineHead, RotatedRefineHead
from .rotated_fcos_head import RotatedFCOSHead
from .rotated_retina_head import RotatedRetinaHead
from .s2a_head import S2AHead, S2ARefineHead

__all__ = ['RotatedRetinaHead', 'RotatedFCOSHead', 'R3Head', 'R3RefineHead', 'RotatedRefineHead', 'S2AHead',
           'S2ARefineHead']
