from .angle_coder import CSLCoder, PseudoAngleCoder
from .delta_midpointoffset_rbbox_coder import MidpointOffsetCoder
from .delta_xywh_hbbox_coder import DeltaXYWHHBBoxCoder
from .delta_xywht_hbbox_coder import DeltaXYWHTHBBoxCoder
from .delta_xywht_rbbox_coder import DeltaXYWHTRBBoxCoder, delta2rbox, rbox2delta
from .distance_angle_point_coder import DistanceAnglePointCoder, rbox_point_distances

__all__ = ['MidpointOffsetCoder', 'DeltaXYWHHBBoxCoder', 'DeltaXYWHTRBBoxCoder', 'DeltaXYWHTHBBoxCoder',
           'DistanceAnglePointCoder', 'PseudoAngleCoder', 'CSLCoder',
           'rbox2delta', 'delta2rbox', 'rbox_point_distances']
