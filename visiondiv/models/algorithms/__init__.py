from .single_teacher_distill import STUDENT_PREFIX, TEACHER_PREFIX, SingleTeacherDistill, gt_labels_of

__all__ = ['SingleTeacherDistill', 'gt_labels_of', 'STUDENT_PREFIX', 'TEACHER_PREFIX']
