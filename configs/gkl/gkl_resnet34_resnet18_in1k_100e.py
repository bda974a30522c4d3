# GKL (DKLv2 GKL_KD.py settings; the code's ALPHA weighs the soft CE and BETA the wMSE, swapped here to the paper's
# names: alpha = wMSE, beta = soft CE): ImageNet R34->R18: code ALPHA 1, BETA 0.5, GAMMA 0.6, GI, T = T2 = 1, warm-up
# 5 epochs (GKL's default), CE 1.
_base_ = [
    '../_base_/models/distill_resnet34_resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    distill_losses=dict(gkl=dict(type='GeneralizedKLLoss', alpha=0.5, beta=1.0, gamma=0.6, weights='class',
                                 tau=1.0, tau_weight=1.0, warmup_epochs=5)))
custom_hooks = [dict(type='DistillEpochHook')]
