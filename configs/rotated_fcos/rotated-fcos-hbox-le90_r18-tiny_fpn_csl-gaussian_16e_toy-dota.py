# Toy: Rotated FCOS with the CSL angle coder (rotated-fcos-hbox-le90_r50_fpn_csl-gaussian_1x_dota.py's head) on the
# demo's tiny backbone and schedule: horizontal IoU loss on the distances, the angle as 180 one-degree bins.
_base_ = './rotated-fcos-le90_r18-tiny_fpn_kld_16e_toy-dota.py'

angle_version = 'le90'
model = dict(
    bbox_head=dict(
        use_hbbox_loss=True,
        scale_angle=False,
        angle_coder=dict(type='CSLCoder', angle_version=angle_version, omega=1, window='gaussian', radius=1),
        loss_angle=dict(_delete_=True, type='SmoothFocalLoss', gamma=2.0, alpha=0.25, loss_weight=0.2),
        loss_bbox=dict(_delete_=True, type='mmdet.IoULoss', loss_weight=1.0)))
