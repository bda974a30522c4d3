from .albu_wrappers import (SliceAlbu, SliceCTToPseudoMR, SliceHistogramMatching, SliceNyulStandardization,
                            SliceRandomIntensityRemap, build_albu)
from .formatting import PackClsInputs, PackGCDInputs, PackTranslationInputs
from .loading import (ImageBitDepthError, LoadImageFromFileBitDepth, check_bit_depth, decode_image,
                      image_bit_depth)
from .multi_view import MultiView
from .random_crop import RandomCrop
from .random_resized_crop import RandomResizedCrop
from .transforms import ConvertBoxType, RandomChoiceRotate, RandomRotate, Rotate, RotatedAlbu

__all__ = ['ConvertBoxType', 'RandomRotate', 'Rotate', 'RotatedAlbu', 'SliceAlbu', 'SliceCTToPseudoMR',
           'SliceHistogramMatching', 'SliceNyulStandardization', 'SliceRandomIntensityRemap', 'build_albu',
           'PackTranslationInputs', 'MultiView', 'PackGCDInputs', 'LoadImageFromFileBitDepth', 'ImageBitDepthError',
           'check_bit_depth', 'decode_image', 'image_bit_depth', 'RandomChoiceRotate', 'PackClsInputs', 'RandomCrop',
           'RandomResizedCrop']
