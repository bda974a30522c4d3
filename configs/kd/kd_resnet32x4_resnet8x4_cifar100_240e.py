# Hinton KD, mdistiller's CIFAR-100 setting: T 4, loss 0.1 CE + 0.9 T^2 KL(p_t || p_s).
_base_ = [
    '../_base_/models/distill_resnet32x4_resnet8x4_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    student_loss_weight=0.1,
    distill_losses=dict(kd=dict(type='KDLoss', tau=4.0, loss_weight=0.9)))
