# WKD-L (WKD mdistiller/distillers/WKD.py): CE + target term + w * entropic Wasserstein distance between the
# non-target distributions (Sinkhorn, lambda 0.05, 10 iterations). Cost: 1 - exp(-kappa * cosine distance of the
# teacher's classifier rows), set by SingleTeacherDistill after teacher_ckpt loads (WKD's 'fc' cost; its CKA cost
# files are not shipped). w decays as in WKD's CIFAR runs (COSINE_DECAY_EPOCH 150 in both its res32x4->res8x4 and
# wrn40_2->SNv1 yaml, JiamingLv/WKD@214cf88): constant to epoch 150, then a cosine to 0 at epoch 240 (wd_decay, set
# each epoch by DistillEpochHook). WKD publishes no wrn40_2->wrn16_2 setting: w 200, T 6 are its
# wrn40_2->ShuffleNetV1 values (with lr 0.05 here, not that pair's 0.01). Not a published configuration.
_base_ = [
    '../_base_/models/distill_wrn-40-2_wrn-16-2_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(wkd=dict(type='WassersteinKDLoss', tau=6.0, eps=0.05, n_iters=10, kappa=1.0,
                                 wd_weight=200.0, target_weight=1.0,
                                 wd_decay=dict(start_epoch=150, end_epoch=240))))
custom_hooks = [dict(type='DistillEpochHook')]
