# Hinton KD, mdistiller's ImageNet setting (configs/imagenet/r34_r18/kd.yaml): T 1, 0.5 CE + 0.5 KL.
_base_ = [
    '../_base_/models/distill_resnet34_resnet18_in1k.py',
    '../_base_/datasets/imagenet_cls.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/cls_runtime.py',
]
model = dict(
    student_loss_weight=0.5,
    distill_losses=dict(kd=dict(type='KDLoss', tau=1.0, loss_weight=0.5)))
