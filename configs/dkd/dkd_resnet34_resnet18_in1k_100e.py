# DKD, mdistiller's ImageNet R34->R18 setting: CE 1, alpha 1, beta 0.5, T 1, warm-up 1 epoch.
_base_ = [
    '../_base_/models/distill_resnet34_resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(dkd=dict(type='DKDLoss', tau=1.0, alpha=1.0, beta=0.5, warmup_epochs=1)))
custom_hooks = [dict(type='DistillEpochHook')]
