from .refine_single_stage import RefineSingleStageDetector

__all__ = ['RefineSingleStageDetector']
