# Toy S2ANet + KFIoU (KFLoss, fun 'ln', weight 5 as in mmrotate's S2ANet config) in both stages, toy DOTA set.
_base_ = '../s2anet/s2anet-le135_r18-tiny_fpn_16e_toy-dota.py'

angle_version = 'le135'
strides = [8, 16, 32]
model = dict(
    bbox_head_init=dict(
        loss_bbox_type='kfiou',
        loss_bbox=dict(_delete_=True, type='KFLoss', fun='ln', loss_weight=5.0)),
    bbox_head_refine=[
        dict(
            type='S2ARefineHead', num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64,
            frm_cfg=dict(type='AlignConv', feat_channels=64, kernel_size=3, strides=strides),
            anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=strides),
            bbox_coder=dict(
                type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=1, edge_swap=False,
                proj_xy=True, target_means=(0.0, 0.0, 0.0, 0.0, 0.0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
            loss_bbox_type='kfiou',
            loss_bbox=dict(type='KFLoss', fun='ln', loss_weight=5.0))
    ])
