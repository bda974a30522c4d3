# Hinton KD in the offline study (benchmarks/kd_study.py), with the CIFAR-100 resnet32x4->resnet8x4 setting of
# kd_resnet32x4_resnet8x4_cifar100_240e.py: T 4, loss 0.1 CE + 0.9 T^2 KL(p_t || p_s).
_base_ = [
    '../_base_/models/distill_smallconvnet-w32_smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    student_loss_weight=0.1,
    distill_losses=dict(kd=dict(type='KDLoss', tau=4.0, loss_weight=0.9)))
