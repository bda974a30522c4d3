# Source training with the ENet-style network of the SFDA papers (instead of the UNet).
_base_ = ['../_base_/models/enet_seg.py', '../_base_/datasets/toy_shift.py', '../_base_/seg_runtime.py']
train_cfg = dict(type='IterBasedTrainLoop', max_iters=600, val_interval=600)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=600, eta_min=1e-5)]
randomness = dict(seed=0)
