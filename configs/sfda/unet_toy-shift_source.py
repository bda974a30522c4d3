# Step 1: train on the labelled SOURCE domain; validation on the target test set = "source only".
_base_ = ['../_base_/models/unet_seg.py', '../_base_/datasets/toy_shift.py', '../_base_/seg_runtime.py']
train_cfg = dict(type='IterBasedTrainLoop', max_iters=600, val_interval=600)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# SGD with momentum (mmseg's default). Adam at the reference code's lr 5e-4 left this UNet
# (Kaiming init) predicting background only after 600 iterations on the toy set.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=600, eta_min=1e-4)]
randomness = dict(seed=0)
