# Toy R3Det-tiny + KLD (stable GDLoss, weight 5 as in mmrotate's R3Det configs) in both stages, on the toy DOTA set.
_base_ = '../r3det/r3det-tiny-oc_r18-tiny_fpn_16e_toy-dota.py'

angle_version = 'oc'
strides = [8, 16, 32]
model = dict(
    bbox_head_init=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='kld', fun='log1p', tau=1.0, sqrt=False,
                       loss_weight=5.0)),
    bbox_head_refine=[
        dict(
            type='R3RefineHead', num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64,
            frm_cfg=dict(type='FRM', feat_channels=64, strides=strides),
            anchor_generator=dict(type='PseudoRotatedAnchorGenerator', strides=strides),
            bbox_coder=dict(
                type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=None, edge_swap=False,
                proj_xy=False, target_means=(0.0, 0.0, 0.0, 0.0, 0.0), target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
            reg_decoded_bbox=True,
            loss_bbox=dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1.0, sqrt=False, loss_weight=5.0))
    ])
