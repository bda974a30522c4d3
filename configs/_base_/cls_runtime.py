# Runtime of the classification and distillation configs: default_runtime.py without the detection
# visualization hook; atomic checkpoints every 10 epochs plus the best top-1 (mdistiller reports the best
# test top-1 over the epochs; the last epoch is in the log too).
_base_ = './default_runtime.py'
default_hooks = dict(
    _delete_=True,
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2, save_best='accuracy/top1', rule='greater',
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))
visualizer = dict(_delete_=True, type='Visualizer', vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
