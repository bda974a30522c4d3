# SimGCD / LegoGCD schedule: SGD lr 0.1, momentum 0.9, weight decay 5e-5 (none on biases and norms, as
# SimGCD's get_params_groups), cosine annealing per epoch to lr * 1e-3 over 200 epochs, batch 128 on one GPU.
# The teacher temperature of the clustering loss warms up linearly 0.07 -> 0.04 over 30 epochs.
max_epochs = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-5),
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=0.1 * 1e-3)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# SimGCD reports the last epoch (no model selection on labels it would not have)
custom_hooks = [dict(type='TeacherTempScheduleHook', warmup_teacher_temp=0.07, teacher_temp=0.04, warmup_epochs=30)]
auto_scale_lr = dict(enable=False, base_batch_size=128)
