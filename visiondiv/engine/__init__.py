from .checkpoint import find_resumable_checkpoint, is_intact_checkpoint
from .fileio import AtomicLocalBackend
from .hooks import (CompatibilityCheckHook, SourceFreeCheckHook, TeacherTempScheduleHook, TranslationVisualizationHook,
                    check_source_free)
from .optimizers import MultiOptimWrapperConstructor

__all__ = ['AtomicLocalBackend', 'is_intact_checkpoint', 'find_resumable_checkpoint', 'CompatibilityCheckHook',
           'SourceFreeCheckHook', 'TeacherTempScheduleHook', 'TranslationVisualizationHook', 'check_source_free',
           'MultiOptimWrapperConstructor']
