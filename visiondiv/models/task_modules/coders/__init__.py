from .delta_xywht_hbbox_coder import DeltaXYWHTHBBoxCoder
from .delta_xywht_rbbox_coder import DeltaXYWHTRBBoxCoder
from .distance_angle_point_coder import DistanceAnglePointCoder, PseudoAngleCoder

__all__ = ['DeltaXYWHTRBBoxCoder', 'DeltaXYWHTHBBoxCoder', 'DistanceAnglePointCoder', 'PseudoAngleCoder']
