from .checkpoint import (CheckpointMismatchError, check_checkpoint_fits, find_resumable_checkpoint,
                         is_intact_checkpoint, load_from_local)
from .fileio import AtomicLocalBackend
from .hooks import CompatibilityCheckHook, SourceFreeCheckHook, check_source_free
from .optimizers import MultiOptimWrapperConstructor

__all__ = ['AtomicLocalBackend', 'load_from_local', 'is_intact_checkpoint', 'find_resumable_checkpoint',
           'check_checkpoint_fits', 'CheckpointMismatchError', 'CompatibilityCheckHook', 'SourceFreeCheckHook',
           'check_source_free', 'MultiOptimWrapperConstructor']
