# The ImageNet KD schedule of mdistiller (KD, DKD; DKL/GKL use it too): SGD lr 0.2, momentum 0.9, weight
# decay 1e-4, 100 epochs, lr x0.1 at epochs 30, 60 and 90, total batch 512 (8 GPUs x 64, the dataset
# config's per-GPU batch_size). WKD's own recipe is batch 256 with lr 0.1 (the same lr per image) and AMP.
max_epochs = 100
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=512)
