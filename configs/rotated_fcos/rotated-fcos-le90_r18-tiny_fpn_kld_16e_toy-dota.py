# Toy: Rotated FCOS + KLD with the demo's tiny backbone and schedule.
_base_ = [
    '../_base_/models/rotated_fcos.py', '../_base_/datasets/toy_dota.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_toy_16e.py'
]
model = dict(
    backbone=dict(depth=18, base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128], out_channels=64, start_level=0, num_outs=3),
    bbox_head=dict(num_classes=3, in_channels=64, stacked_convs=2, feat_channels=64, strides=[8, 16, 32],
                   regress_ranges=((-1, 48), (48, 96), (96, 1e8)),
                   # KLD, as in the toy results of README.md (the base model defaults to the rotated IoU loss)
                   loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False,
                                  loss_weight=1.0)),
    test_cfg=dict(nms_pre=1000, score_thr=0.05, max_per_img=200))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4, max_keep_ckpts=2))
