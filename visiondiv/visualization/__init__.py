from .local_visualizer import RotLocalVisualizer

__all__ = ['RotLocalVisualizer']
