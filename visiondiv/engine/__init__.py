from .checkpoint import load_from_local
from .fileio import AtomicLocalBackend
from .hooks import SourceFreeCheckHook, check_source_free
from .optimizers import MultiOptimWrapperConstructor

__all__ = ['AtomicLocalBackend', 'load_from_local', 'SourceFreeCheckHook', 'check_source_free',
           'MultiOptimWrapperConstructor']
