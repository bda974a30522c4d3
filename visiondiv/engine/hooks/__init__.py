from .source_free_check_hook import SourceFreeCheckHook, check_source_free

__all__ = ['SourceFreeCheckHook', 'check_source_free']
