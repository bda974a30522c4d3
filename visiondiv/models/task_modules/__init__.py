from .coders import *  # noqa: F401,F403
from .prior_generators import *  # noqa: F401,F403
from .rotated_iou2d_calculator import FakeRBboxOverlaps2D, RBboxOverlaps2D

__all__ = ['RBboxOverlaps2D', 'FakeRBboxOverlaps2D']
