from .rotated_iou2d_calculator import RBboxOverlaps2D

__all__ = ['RBboxOverlaps2D']
