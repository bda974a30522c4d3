# WKD-L (WKD mdistiller/distillers/WKD.py): CE + target term + w * entropic Wasserstein distance between the
# non-target distributions (Sinkhorn, lambda 0.05, 10 iterations). Cost: 1 - exp(-kappa * cosine distance of the
# teacher's classifier rows), set by SingleTeacherDistill after teacher_ckpt loads (WKD's 'fc' cost; its CKA cost
# files are not shipped). w decays by a cosine over the WHOLE run: WKD's configs/imagenet/r34_r18/wkd_l.yaml sets no
# COSINE_DECAY_EPOCH, so its default 0 applies (mdistiller/engine/cfg.py; JiamingLv/WKD@214cf88), i.e.
# w * (1 + cos(pi * epoch / 100)) / 2 from epoch 1 (set per epoch by DistillEpochHook). ImageNet R34->R18: w 30, T 2,
# kappa 1 (WKD trains with batch 256, lr 0.1 and AMP; here mdistiller's batch 512, lr 0.2).
_base_ = [
    '../_base_/models/distill_resnet34_resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(wkd=dict(type='WassersteinKDLoss', tau=2.0, eps=0.05, n_iters=10, kappa=1.0,
                                 wd_weight=30.0, target_weight=1.0,
                                 wd_decay=dict(start_epoch=0, end_epoch=100))))
custom_hooks = [dict(type='DistillEpochHook')]
