from .rotated_fcos_head import RotatedFCOSHead
from .rotated_retina_head import RotatedRetinaHead
from .rotated_rtmdet_head import RotatedRTMDetHead, RotatedRTMDetSepBNHead

__all__ = ['RotatedRetinaHead', 'RotatedFCOSHead', 'RotatedRTMDetHead', 'RotatedRTMDetSepBNHead']
