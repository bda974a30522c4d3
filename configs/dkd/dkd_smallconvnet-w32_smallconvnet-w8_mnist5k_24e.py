# DKD in the offline study (benchmarks/kd_study.py), with the CIFAR-100 resnet32x4->resnet8x4 setting of
# dkd_resnet32x4_resnet8x4_cifar100_240e.py (CE 1, alpha 1, beta 8, T 4) and its 20-epoch warm-up scaled with the
# schedule (240 -> 24 epochs): 2 epochs.
_base_ = [
    '../_base_/models/distill_smallconvnet-w32_smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(dkd=dict(type='DKDLoss', tau=4.0, alpha=1.0, beta=8.0, warmup_epochs=2)))
custom_hooks = [dict(type='DistillEpochHook')]
