# RTMDet-R on the toy DOTA set, trained from scratch on CPU: rotated_rtmdet_tiny-3x-dota.py's model with a CSPNeXt
# at widen 0.125 (channels 32/64/128), a 64-channel PAFPN and head (exp_on_reg=False as tiny), RotatedIoULoss
# (mmrotate's loss), 3 classes, batch-norm (one process), the toy data and schedule (AdamW 2e-3, 16 epochs).
_base_ = [
    '../_base_/datasets/toy_dota.py', '../_base_/schedules/schedule_toy_16e.py', './_base_/default_runtime.py'
]

angle_version = 'le90'
norm_cfg = dict(type='BN')
model = dict(
    type='mmdet.RTMDet',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor', mean=[103.53, 116.28, 123.675], std=[57.375, 57.12, 58.395],
        bgr_to_rgb=False, pad_size_divisor=32, boxtype2tensor=False, batch_augments=None),
    backbone=dict(
        type='mmdet.CSPNeXt', arch='P5', expand_ratio=0.5, deepen_factor=0.167, widen_factor=0.125,
        channel_attention=True, norm_cfg=norm_cfg, act_cfg=dict(type='SiLU')),
    neck=dict(
        type='mmdet.CSPNeXtPAFPN', in_channels=[32, 64, 128], out_channels=64, num_csp_blocks=1, expand_ratio=0.5,
        norm_cfg=norm_cfg, act_cfg=dict(type='SiLU')),
    bbox_head=dict(
        type='RotatedRTMDetSepBNHead', num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64,
        angle_version=angle_version,
        anchor_generator=dict(type='mmdet.MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version=angle_version),
        loss_cls=dict(type='mmdet.QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_bbox=dict(type='RotatedIoULoss', mode='linear', loss_weight=2.0),
        with_objectness=False, exp_on_reg=False, share_conv=True, pred_kernel_size=1, use_hbbox_loss=False,
        scale_angle=False, loss_angle=None, norm_cfg=norm_cfg, act_cfg=dict(type='SiLU')),
    train_cfg=dict(
        assigner=dict(type='mmdet.DynamicSoftLabelAssigner', iou_calculator=dict(type='RBboxOverlaps2D'), topk=13),
        allowed_border=-1, pos_weight=-1, debug=False),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms_rotated', iou_threshold=0.1),
                  max_per_img=200))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
