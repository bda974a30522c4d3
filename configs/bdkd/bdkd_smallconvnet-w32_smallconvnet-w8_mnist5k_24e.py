# BD-KD's balanced forward/reverse KL in the offline study (benchmarks/kd_study.py), with a FROZEN trained teacher
# (the paper distils online, teacher and student trained together: teacher_trainable=True). No official code or
# setting was found: KD's weights (0.1 CE + 0.9 loss, T 4) and the loss's default sigmoid sharpness 1.
_base_ = [
    '../_base_/models/distill_smallconvnet-w32_smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    student_loss_weight=0.1,
    distill_losses=dict(bdkd=dict(type='BalancedKDLoss', tau=4.0, sharpness=1.0, loss_weight=0.9)))
