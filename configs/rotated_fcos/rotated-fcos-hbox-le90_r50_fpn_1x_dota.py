# Rotated FCOS with a separate angle loss, le90, R50-FPN, 1x, DOTA-v1.0 (mmrotate's
# rotated-fcos-hbox-le90_r50_fpn_1x_dota): horizontal IoU loss on the (l, t, r, b) distances, L1 on the angle.
_base_ = 'rotated-fcos-le90_r50_fpn_1x_dota.py'
model = dict(
    bbox_head=dict(
        use_hbbox_loss=True,
        scale_angle=True,
        angle_coder=dict(type='PseudoAngleCoder'),
        loss_angle=dict(_delete_=True, type='mmdet.L1Loss', loss_weight=0.2),
        loss_bbox=dict(type='mmdet.IoULoss', loss_weight=1.0)))
