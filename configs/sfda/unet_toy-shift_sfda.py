# Step 2 (SFDA): adapt the source model on unlabelled TARGET images with entropy + KL(class-ratio prior).
# No source data is configured; SourceFreeRunner refuses to start otherwise.
# Prior from the source labels: python tools/sfda/estimate_prior.py from_labels data/toy_shift/source/train/labels --num-classes 3
_base_ = ['../_base_/models/unet_seg.py', '../_base_/datasets/toy_shift.py', '../_base_/seg_runtime.py']
runner_type = 'SourceFreeRunner'
prior = [0.874852, 0.100152, 0.024996]
model = dict(type='SFDAEncoderDecoder', trainable='all',
             adapt_losses=[dict(type='EntropyLoss'),
                           dict(type='ClassRatioKLLoss', prior=prior, mode='image', direction='pred_prior',
                                weight=1.0)])
train_dataloader = dict(dataset={{_base_.target_train_unlabelled}})
load_from = 'work_dirs/unet_toy-shift_source/iter_600.pth'
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
param_scheduler = []
randomness = dict(seed=0)
