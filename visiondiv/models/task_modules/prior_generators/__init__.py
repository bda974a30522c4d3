from .anchor_generator import FakeRotatedAnchorGenerator, RotatedAnchorGenerator

__all__ = ['FakeRotatedAnchorGenerator', 'RotatedAnchorGenerator']
