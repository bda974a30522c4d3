from .transforms import ConvertBoxType, RandomRotate, Rotate, RotatedAlbu

__all__ = ['ConvertBoxType', 'RandomRotate', 'Rotate', 'RotatedAlbu']
