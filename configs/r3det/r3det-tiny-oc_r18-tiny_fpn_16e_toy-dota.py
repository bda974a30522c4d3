# Toy R3Det-tiny (smooth-L1 on the deltas in both stages) on the toy DOTA set, trained from scratch on CPU:
# the demo detector's backbone and neck (ResNet-18 at quarter width, 3 FPN levels), two stacked convs per tower.
_base_ = [
    '../_base_/models/r3det.py', '../_base_/datasets/toy_dota.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_toy_16e.py'
]

angle_version = 'oc'
strides = [8, 16, 32]
model = dict(
    backbone=dict(depth=18, base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128], out_channels=64, start_level=0, num_outs=3),
    bbox_head_init=dict(
        num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64,
        anchor_generator=dict(octave_base_scale=4, scales_per_octave=2, strides=strides),
        loss_bbox=dict(beta=1.0 / 9.0)),
    bbox_head_refine=[
        dict(
            type='R3RefineHead', num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64,
            frm_cfg=dict(type='FRM', feat_channels=64, strides=strides),
            anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=strides),
            bbox_coder=dict(
                type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=None, edge_swap=False,
                proj_xy=False, target_means=(0.0, 0.0, 0.0, 0.0, 0.0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
            loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0))
    ],
    test_cfg=dict(nms_pre=1000, score_thr=0.05, max_per_img=200))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
