# The CIFAR-100 KD schedule of CRD / mdistiller (DKD, DKL/GKL and WKD use it too): SGD lr 0.05 (0.01 for
# MobileNet/ShuffleNet students), momentum 0.9, weight decay 5e-4, 240 epochs, lr x0.1 at epochs 150, 180 and
# 210, batch 64 on one GPU (the dataset config's batch_size). Test top-1 every epoch.
max_epochs = 240
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)
