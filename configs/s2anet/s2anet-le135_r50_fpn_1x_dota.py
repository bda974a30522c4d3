# mmrotate model zoo: S2ANet, le135, R50-FPN, 1x, DOTA-v1.0 single scale (smooth-L1 on the deltas, both stages).
_base_ = [
    '../_base_/models/s2anet.py', '../_base_/datasets/dota.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
