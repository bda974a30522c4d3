# SimGCD on the embedded MNIST-5k benchmark (CPU, about 1.5 min): the schedule shortened to 20 epochs of 39
# iterations (teacher warm-up 3 epochs, 30/200 of them as in SimGCD), SimGCD's SGD otherwise.
_base_ = ['../_base_/models/simgcd_smallconvnet.py', '../_base_/datasets/mnist5k_gcd.py',
          '../_base_/schedules/gcd_sgd_200e.py', '../_base_/gcd_runtime.py']
# MNIST mean / std (0.1307, 0.3081) in 0-255
model = dict(data_preprocessor=dict(mean=[33.32], std=[78.57]))
max_epochs = 20
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs, eta_min=0.1 * 1e-3)]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
custom_hooks = [dict(type='TeacherTempScheduleHook', warmup_teacher_temp=0.07, teacher_temp=0.04, warmup_epochs=3)]
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
