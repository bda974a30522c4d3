from .oriented_rpn_head import OrientedRPNHead
from .rotated_fcos_head import RotatedFCOSHead
from .rotated_retina_head import RotatedRetinaHead
from .rotated_rtmdet_head import RotatedRTMDetHead, RotatedRTMDetSepBNHead

__all__ = ['OrientedRPNHead', 'RotatedRetinaHead', 'RotatedFCOSHead', 'RotatedRTMDetHead', 'RotatedRTMDetSepBNHead']
