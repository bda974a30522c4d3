from .compatibility_check_hook import CompatibilityCheckHook
from .source_free_check_hook import SourceFreeCheckHook, check_source_free

__all__ = ['CompatibilityCheckHook', 'SourceFreeCheckHook', 'check_source_free']
