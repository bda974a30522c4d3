# WKD-L in the offline study (benchmarks/kd_study.py), with the CIFAR-100 resnet32x4->resnet8x4 setting of
# wkd_resnet32x4_resnet8x4_cifar100_240e.py (w 600, T 8, kappa 1, Sinkhorn lambda 0.05 x 10 iterations, the 'fc'
# cost from the teacher's classifier rows) and its decay scaled with the schedule (240 -> 24 epochs): w constant to
# epoch 15, then a cosine to 0 at epoch 24.
_base_ = [
    '../_base_/models/distill_smallconvnet-w32_smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(wkd=dict(type='WassersteinKDLoss', tau=8.0, eps=0.05, n_iters=10, kappa=1.0,
                                 wd_weight=600.0, target_weight=1.0,
                                 wd_decay=dict(start_epoch=15, end_epoch=24))))
custom_hooks = [dict(type='DistillEpochHook')]
