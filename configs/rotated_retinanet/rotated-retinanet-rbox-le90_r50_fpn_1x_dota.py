# mmrotate model zoo: Rotated RetinaNet, rbox anchors, le90, R50-FPN, 1x, DOTA-v1.0 single scale (L1 on deltas).
_base_ = [
    '../_base_/models/rotated_retinanet.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=0.01))
