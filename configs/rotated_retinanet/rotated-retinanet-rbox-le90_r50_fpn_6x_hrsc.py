# mmrotate model zoo: Rotated RetinaNet, le90, R50-FPN, 6x (72 epochs), HRSC2016 (1 class).
_base_ = [
    '../_base_/models/rotated_retinanet.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1, anchor_generator=dict(scales_per_octave=3, ratios=[1.0, 0.5, 2.0])))
optim_wrapper = dict(optimizer=dict(lr=0.01))
