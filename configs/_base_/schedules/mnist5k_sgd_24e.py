# The CIFAR-100 KD schedule (cifar100_sgd_240e.py) at a tenth of its epochs, for the offline distillation study
# on MNIST-5k: SGD lr 0.05, momentum 0.9, weight decay 5e-4, 24 epochs, lr x0.1 at epochs 15, 18 and 21, batch 64
# (the dataset config's). Test top-1 every 4 epochs; the study reads the last (epoch 24).
max_epochs = 24
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[15, 18, 21], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)
