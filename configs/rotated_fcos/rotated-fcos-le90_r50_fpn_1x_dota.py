# Rotated FCOS, le90, R50-FPN, 1x, DOTA-v1.0. mmrotate's baseline uses RotatedIoULoss, which visiondiv
# does not implement; this config uses the KLD box loss (see configs/kld for the same model).
_base_ = [
    '../_base_/models/rotated_fcos.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=0.01))
