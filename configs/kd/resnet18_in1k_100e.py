# resnet18 trained alone with the KD schedule (the "student" / "teacher" rows of the KD tables): cross-entropy only. A
# teacher trained with it is what the distillation configs load as teacher_ckpt.
_base_ = [
    '../_base_/models/resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
