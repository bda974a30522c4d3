# SimGCD on scikit-learn's 8x8 digits (CPU, under a minute): 30 epochs of 14 iterations (teacher warm-up 5
# epochs, about 30/200 of them as in SimGCD), SimGCD's SGD otherwise.
_base_ = ['../_base_/models/simgcd_smallconvnet.py', '../_base_/datasets/digits_gcd.py',
          '../_base_/schedules/gcd_sgd_200e.py', '../_base_/gcd_runtime.py']
max_epochs = 30
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=0.1 * 1e-3)]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
custom_hooks = [dict(type='TeacherTempScheduleHook', warmup_teacher_temp=0.07, teacher_temp=0.04, warmup_epochs=5)]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0)
