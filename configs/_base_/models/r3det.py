# R3Det, R50-FPN, oc (mmrotate's r3det-oc_r50_fpn_1x_dota model): a RetinaNet-style first head (9 anchors per
# location) and one refine head (FRM feature refinement, the first head's best box per location as anchor).
# No weights are downloaded at run time: to start from ImageNet weights, set
# model.backbone.init_cfg=dict(type='Pretrained', checkpoint='/path/to/resnet50.pth').
angle_version = 'oc'
model = dict(
    type='RefineSingleStageDetector',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True, pad_size_divisor=32, boxtype2tensor=False),
    backbone=dict(
        type='mmdet.ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
        zero_init_residual=False, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True, style='pytorch',
        init_cfg=None),
    neck=dict(type='mmdet.FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, start_level=1,
              add_extra_convs='on_input', num_outs=5),
    bbox_head_init=dict(
        type='R3Head', num_classes=15, in_channels=256, stacked_convs=4, feat_channels=256,
        anchor_generator=dict(
            type='FakeRotatedAnchorGenerator', angle_version=angle_version, octave_base_scale=4,
            scales_per_octave=3, ratios=[1.0, 0.5, 2.0], strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=None, edge_swap=False,
            proj_xy=False, target_means=(.0, .0, .0, .0, .0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0),
            use_box_type=False),
        loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=0.11, loss_weight=1.0)),
    bbox_head_refine=[
        dict(
            type='R3RefineHead', num_classes=15, in_channels=256, stacked_convs=4, feat_channels=256,
            frm_cfg=dict(type='FRM', feat_channels=256, strides=[8, 16, 32, 64, 128]),
            anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=None, edge_swap=False,
                proj_xy=False, target_means=(0.0, 0.0, 0.0, 0.0, 0.0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
            loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=0.11, loss_weight=1.0))
    ],
    train_cfg=dict(
        init=dict(
            assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                          ignore_iof_thr=-1, iou_calculator=dict(type='RBboxOverlaps2D')),
            allowed_border=-1, pos_weight=-1, debug=False),
        refine=[
            dict(
                assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.6, neg_iou_thr=0.5, min_pos_iou=0,
                              ignore_iof_thr=-1, iou_calculator=dict(type='RBboxOverlaps2D')),
                allowed_border=-1, pos_weight=-1, debug=False)
        ],
        stage_loss_weights=[1.0]),
    test_cfg=dict(nms_pre=2000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms_rotated', iou_threshold=0.1),
                  max_per_img=2000))
