# WKD-L (WKD mdistiller/distillers/WKD.py): CE + target term + w * entropic Wasserstein distance between the
# non-target distributions (Sinkhorn, lambda 0.05, 10 iterations). Cost: 1 - exp(-kappa * cosine distance of the
# teacher's classifier rows), set by SingleTeacherDistill after teacher_ckpt loads (WKD's 'fc' cost; its CKA cost
# files are not shipped). w is CONSTANT here: WKD's code decays it by a cosine after its COSINE_DECAY_EPOCH, whose
# ImageNet value the reference gathered here does not give (set it with wd_decay=dict(start_epoch=..., end_epoch=100)
# and DistillEpochHook in custom_hooks, as the CIFAR configs do). ImageNet R34->R18: w 30, T 2, kappa 1 (WKD trains
# with batch 256, lr 0.1 and AMP; here mdistiller's batch 512, lr 0.2).
_base_ = [
    '../_base_/models/distill_resnet34_resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(wkd=dict(type='WassersteinKDLoss', tau=2.0, eps=0.05, n_iters=10, kappa=1.0,
                                 wd_weight=30.0, target_weight=1.0)))
