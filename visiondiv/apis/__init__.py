from .translation import load_translator, translate_slices

__all__ = ['load_translator', 'translate_slices']
