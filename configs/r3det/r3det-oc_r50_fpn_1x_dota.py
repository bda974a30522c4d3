# mmrotate model zoo: R3Det, oc, R50-FPN, 1x, DOTA-v1.0 single scale (smooth-L1 on the deltas, both stages).
_base_ = [
    '../_base_/models/r3det.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
