from .translation_data_preprocessor import TranslationDataPreprocessor

__all__ = ['TranslationDataPreprocessor']
