"""visiondiv: divergence-based learning for computer vision, in the OpenMMLab style."""
from .version import __version__

__all__ = ['__version__']
