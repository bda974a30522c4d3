from .rotate_iou2d_calculator import (FakeRBboxOverlaps2D, RBbox2HBboxOverlaps2D, RBboxOverlaps2D,
                                      check_assigner_skip_below)

__all__ = ['RBboxOverlaps2D', 'RBbox2HBboxOverlaps2D', 'FakeRBboxOverlaps2D', 'check_assigner_skip_below']
