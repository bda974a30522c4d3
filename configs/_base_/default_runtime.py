default_scope = 'visiondiv'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic writes (temp file + rename, visiondiv.engine.fileio): a run killed mid-save keeps its last
    # checkpoint; for remote storage, replace backend_args with that storage's. (mmengine writes
    # work_dir/last_checkpoint with a plain open(), not through it: --resume falls back if that is empty or stale.)
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='mmdet.DetVisualizationHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # without CUDA, tools/train.py and tools/test.py switch to 'gloo' (visiondiv.utils.cli.setup_distributed)
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='RotLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
