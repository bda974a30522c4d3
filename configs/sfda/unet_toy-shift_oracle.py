# Upper bound: the same network trained on the labelled TARGET training set.
_base_ = './unet_toy-shift_source.py'
train_dataloader = dict(dataset={{_base_.target_train_labelled}})
