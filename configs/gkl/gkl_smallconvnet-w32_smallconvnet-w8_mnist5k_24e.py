# GKL in the offline study (benchmarks/kd_study.py), with the CIFAR-100 resnet32x4->resnet8x4 setting of
# gkl_resnet32x4_resnet8x4_cifar100_240e.py (paper's names: alpha 16 on the wMSE, beta 1 on the soft CE; gamma 0.05;
# class-wise prior, uniform in epoch 1; T = T2 = 4; CE 1) and its 20-epoch warm-up scaled with the schedule
# (240 -> 24 epochs): 2 epochs.
_base_ = [
    '../_base_/models/distill_smallconvnet-w32_smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(gkl=dict(type='GeneralizedKLLoss', alpha=16.0, beta=1.0, gamma=0.05, weights='class',
                                 tau=4.0, tau_weight=4.0, warmup_epochs=2)))
custom_hooks = [dict(type='DistillEpochHook')]
