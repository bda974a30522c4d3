# mmrotate's configs/rotated_rtmdet/_base_/default_runtime.py: the project's runtime, checkpoints every 12 epochs,
# and the EMA of the weights RTMDet trains with.
_base_ = '../../_base_/default_runtime.py'

default_hooks = dict(checkpoint=dict(interval=12, max_keep_ckpts=3))
custom_hooks = [
    dict(type='mmdet.NumClassCheckHook'),
    dict(type='EMAHook', ema_type='mmdet.ExpMomentumEMA', momentum=0.0002, update_buffers=True, priority=49)
]
