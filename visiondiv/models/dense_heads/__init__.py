from .oriented_rpn_head import OrientedRPNHead
from .r3_head import R3Head, R3RefineHead, RotatedRefineHead
from .rotated_fcos_head import RotatedFCOSHead
from .rotated_retina_head import RotatedRetinaHead
from .rotated_rpn_head import RotatedRPNHead
from .rotated_rtmdet_head import RotatedRTMDetHead, RotatedRTMDetSepBNHead
from .s2a_head import S2AHead, S2ARefineHead

__all__ = ['OrientedRPNHead', 'RotatedRetinaHead', 'RotatedFCOSHead', 'RotatedRTMDetHead', 'RotatedRTMDetSepBNHead',
           'R3Head', 'R3RefineHead', 'RotatedRefineHead', 'S2AHead', 'S2ARefineHead',
           'RotatedRPNHead']
