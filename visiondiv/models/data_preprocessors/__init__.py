from .cls_data_preprocessor import ClsDataPreprocessor
from .gcd_data_preprocessor import GCDDataPreprocessor
from .translation_data_preprocessor import TranslationDataPreprocessor

__all__ = ['TranslationDataPreprocessor', 'GCDDataPreprocessor', 'ClsDataPreprocessor']
