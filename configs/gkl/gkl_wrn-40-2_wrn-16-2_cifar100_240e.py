# GKL (DKLv2 GKL_KD.py settings; the code's ALPHA weighs the soft CE and BETA the wMSE, swapped here to the paper's
# names: alpha = wMSE, beta = soft CE): CIFAR-100 wrn40_2->wrn16_2: code ALPHA 3, BETA 20, GAMMA 0.3, no GI
# (per-sample teacher weights), T = T2 = 4, warm-up 20 epochs, CE 1.
_base_ = [
    '../_base_/models/distill_wrn-40-2_wrn-16-2_cifar.py',
    '../_base_/datasets/cifar100_cls.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(gkl=dict(type='GeneralizedKLLoss', alpha=20.0, beta=3.0, gamma=0.3, weights='sample',
                                 tau=4.0, tau_weight=4.0, warmup_epochs=20)))
custom_hooks = [dict(type='DistillEpochHook')]
