from .transforms import ConvertBoxType, RandomRotate, RotatedAlbu

__all__ = ['ConvertBoxType', 'RandomRotate', 'RotatedAlbu']
