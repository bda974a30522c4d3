# Rotated FCOS + KLD, le90, R50-FPN, 1x, DOTA-v1.0 (mmrotate's rotated-fcos-le90_r50_fpn_kld_1x_dota).
_base_ = [
    '../_base_/models/rotated_fcos.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
# The original KLD loss (GDLoss_v1), as mmrotate's config of this name and its published 71.89.
model = dict(bbox_head=dict(loss_bbox=dict(_delete_=True, type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1,
                                           loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(lr=0.01))
