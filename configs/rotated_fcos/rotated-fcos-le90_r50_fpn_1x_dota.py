# Rotated FCOS, le90, R50-FPN, 1x, DOTA-v1.0 (mmrotate's rotated-fcos-le90_r50_fpn_1x_dota): rotated IoU box loss.
_base_ = [
    '../_base_/models/rotated_fcos.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(loss_bbox=dict(type='RotatedIoULoss', loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(lr=0.01))
