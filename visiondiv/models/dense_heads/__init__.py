from .oriented_rpn_head import OrientedRPNHead
from .rotated_fcos_head import RotatedFCOSHead
from .rotated_retina_head import RotatedRetinaHead

__all__ = ['OrientedRPNHead', 'RotatedRetinaHead', 'RotatedFCOSHead']
