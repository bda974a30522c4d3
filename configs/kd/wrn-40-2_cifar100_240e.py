# wrn-40-2 trained alone with the KD schedule (the "student" / "teacher" rows of the KD tables): cross-entropy only. A
# teacher trained with it is what the distillation configs load as teacher_ckpt.
_base_ = [
    '../_base_/models/wrn-40-2_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
