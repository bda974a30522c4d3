from .compatibility_check_hook import CompatibilityCheckHook
from .source_free_check_hook import SourceFreeCheckHook, check_source_free
from .translation_visualization_hook import TranslationVisualizationHook

__all__ = ['CompatibilityCheckHook', 'SourceFreeCheckHook', 'check_source_free', 'TranslationVisualizationHook']
