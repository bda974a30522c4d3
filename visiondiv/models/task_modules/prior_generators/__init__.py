from .anchor_generator import FakeRotatedAnchorGenerator, PseudoRotatedAnchorGenerator, RotatedAnchorGenerator

__all__ = ['FakeRotatedAnchorGenerator', 'PseudoRotatedAnchorGenerator', 'RotatedAnchorGenerator']
