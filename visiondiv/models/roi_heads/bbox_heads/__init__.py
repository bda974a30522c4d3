from .convfc_rbbox_head import RotatedShared2FCBBoxHead

__all__ = ['RotatedShared2FCBBoxHead']
