# DKD, mdistiller's CIFAR-100 setting for this pair: CE 1, alpha 1, beta 6, T 4, linear warm-up over 20 epochs
# (DistillEpochHook sets the epoch).
_base_ = [
    '../_base_/models/distill_wrn-40-2_wrn-16-2_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(dkd=dict(type='DKDLoss', tau=4.0, alpha=1.0, beta=6.0, warmup_epochs=20)))
custom_hooks = [dict(type='DistillEpochHook')]
