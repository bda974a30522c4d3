# Plain CycleGAN CT -> pseudo-MR translator on the toy CT/MR set (no tumour-aware term).
_base_ = ['../_base_/models/cyclegan_lsgan_resnet.py', '../_base_/datasets/toy_ct_mr.py',
          '../_base_/default_runtime.py']
train_dataloader = dict(batch_size=4, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset={{_base_.translation_train}})
val_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset={{_base_.translation_val}})
test_dataloader = val_dataloader
# KL of the pseudo-MR intensity histogram against the real MR one, in the generators' range [-1, 1]
val_evaluator = dict(type='IntensityKL', pred_key='fake_mr', ref_key='real_mr', value_range=(-1.0, 1.0))
test_evaluator = val_evaluator

max_iters = 600
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Adam(2e-4, betas (0.5, 0.999)) as CycleGAN; constant, then linear decay to 0 over the second half
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
param_scheduler = dict(
    generators=[dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False, begin=max_iters // 2,
                     end=max_iters)],
    discriminators=[dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
                         begin=max_iters // 2, end=max_iters)])

# no detection/segmentation visualisation hook: the translation grids come from the custom hook below
default_hooks = dict(
    _delete_=True, timer=dict(type='IterTimerHook'), logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'), sampler_seed=dict(type='DistSamplerSeedHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300, max_keep_ckpts=2,
                    backend_args=dict(backend='atomic_local')))
# PNG grids (CT | pseudo-MR | reconstructed CT, tumour contour in red) in work_dir/<time>/vis_data/vis_image
custom_hooks = [dict(type='TranslationVisualizationHook', interval=150, keys=('img_ct', 'fake_mr', 'rec_ct'),
                     mask_key='mask_ct', num_samples=4)]
visualizer = dict(_delete_=True, type='Visualizer', vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
