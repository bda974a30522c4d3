# Toy Rotated Faster R-CNN on the toy DOTA set, trained from scratch on CPU: the demo detector's backbone and neck
# (ResNet-18 at quarter width, 3 FPN levels at strides 8-32), mmdet's RPN and horizontal RoIAlign.
_base_ = [
    '../_base_/models/rotated_faster_rcnn.py', '../_base_/datasets/toy_dota.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_toy_16e.py'
]

model = dict(
    backbone=dict(depth=18, base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128], out_channels=64, num_outs=3),
    rpn_head=dict(in_channels=64, feat_channels=64,
                  anchor_generator=dict(scales=[4], strides=[8, 16, 32])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64, featmap_strides=[8, 16, 32]),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=3)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=500),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(nms_pre=1000, max_per_img=200)))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
