"""Rotated-box core: box types, converters, angle versions and the Gaussian view."""
from mmdet.structures.bbox import register_box_converter

from .angle import ANGLE_VERSIONS, check_angle_version, norm_angle, regularize_rboxes
from .bbox_overlaps import fake_rbbox_overlaps, rbbox_overlaps
from .gaussian import Gaussian2D, gaussian2rbox, rbox2gaussian
from .quadri_boxes import QuadriBoxes
from .rotated_boxes import RotatedBoxes
from .rotated_iou import rotated_iou
from .transforms import (hbox2qbox, hbox2rbox, qbox2hbox, qbox2rbox, rbox2hbox,
                         rbox2qbox)

# mmdet's get_box_type/convert_box_type look these up by name ('hbox', 'rbox', 'qbox').
register_box_converter('rbox', 'hbox', rbox2hbox)
register_box_converter('hbox', 'rbox', hbox2rbox)
register_box_converter('rbox', 'qbox', rbox2qbox)
register_box_converter('qbox', 'rbox', qbox2rbox)
register_box_converter('qbox', 'hbox', qbox2hbox)
register_box_converter('hbox', 'qbox', hbox2qbox)

__all__ = [
    'RotatedBoxes', 'QuadriBoxes', 'rbox2qbox', 'qbox2rbox', 'rbox2hbox', 'hbox2rbox',
    'qbox2hbox', 'hbox2qbox', 'norm_angle', 'regularize_rboxes', 'ANGLE_VERSIONS', 'check_angle_version',
    'Gaussian2D', 'rbox2gaussian', 'gaussian2rbox', 'rbbox_overlaps', 'fake_rbbox_overlaps', 'rotated_iou'
]
