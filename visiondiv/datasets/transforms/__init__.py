from .albu_wrappers import CTToPseudoMR, HistogramMatching, NyulStandardization, RandomIntensityRemap, SliceAlbu
from .formatting import PackTranslationInputs
from .transforms import ConvertBoxType, RandomRotate, Rotate, RotatedAlbu

__all__ = ['ConvertBoxType', 'RandomRotate', 'Rotate', 'RotatedAlbu', 'SliceAlbu', 'CTToPseudoMR',
           'HistogramMatching', 'NyulStandardization', 'RandomIntensityRemap', 'PackTranslationInputs']
from .formatting import PackGCDInputs
from .multi_view import MultiView

__all__ += ['MultiView', 'PackGCDInputs']
