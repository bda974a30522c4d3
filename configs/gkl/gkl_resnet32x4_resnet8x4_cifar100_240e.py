# GKL (DKLv2 GKL_KD.py settings; the code's ALPHA weighs the soft CE and BETA the wMSE, swapped here to the paper's
# names: alpha = wMSE, beta = soft CE): CIFAR-100 res32x4->res8x4: code ALPHA 1, BETA 16, GAMMA 0.05, GI (class-wise
# prior, accumulated per epoch by DistillEpochHook, uniform in epoch 1), T = T2 = 4, warm-up 20 epochs, CE 1.
_base_ = [
    '../_base_/models/distill_resnet32x4_resnet8x4_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(gkl=dict(type='GeneralizedKLLoss', alpha=16.0, beta=1.0, gamma=0.05, weights='class',
                                 tau=4.0, tau_weight=4.0, warmup_epochs=20)))
custom_hooks = [dict(type='DistillEpochHook')]
