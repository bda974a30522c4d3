# Study arm 1: the 2D UNet trained on the <= 6 labelled MR volumes only; tested on the separate MR test set.
# The other arms inherit this schedule and add CT-derived training slices (tools/data/toy_ct_mr.py's set).
_base_ = ['../_base_/models/unet_seg.py', '../_base_/datasets/toy_ct_mr_seg.py', '../_base_/seg_runtime.py']
model = dict(decode_head=dict(num_classes=2))
train_dataloader = dict(batch_size=8)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=400)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# the optimiser of configs/sfda/source_unet-gn_600it_toy-shift.py (SGD 0.03, cosine), 400 iterations of 8
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=400, eta_min=1e-4)]
default_hooks = dict(checkpoint=dict(interval=400, max_keep_ckpts=1))
randomness = dict(seed=0)
# CT-derived arms: the 72 labelled MR slices repeated 4 times beside the 480 CT-derived slices, so a batch
# holds MR and CT-derived slices in about 3:5
mr_repeated = dict(type='RepeatDataset', times=4, dataset={{_base_.mr_train}})
