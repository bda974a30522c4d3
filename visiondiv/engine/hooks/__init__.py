from .compatibility_check_hook import CompatibilityCheckHook
from .distill_epoch_hook import DistillEpochHook
from .loss_trace_hook import LossTraceHook
from .source_free_check_hook import SourceFreeCheckHook, check_source_free
from .teacher_temp_schedule_hook import TeacherTempScheduleHook, teacher_temp_at
from .translation_visualization_hook import TranslationVisualizationHook

__all__ = ['CompatibilityCheckHook', 'DistillEpochHook', 'LossTraceHook', 'SourceFreeCheckHook', 'check_source_free',
           'TranslationVisualizationHook', 'TeacherTempScheduleHook', 'teacher_temp_at']
