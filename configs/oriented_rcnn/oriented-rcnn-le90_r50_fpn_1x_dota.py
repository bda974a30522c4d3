# mmrotate model zoo: Oriented R-CNN, le90, R50-FPN, 1x, DOTA-v1.0 single scale.
_base_ = [
    '../_base_/models/oriented_rcnn.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
