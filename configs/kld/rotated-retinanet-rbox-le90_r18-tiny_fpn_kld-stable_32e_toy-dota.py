# The demo detector (`make demo`): the 16-epoch toy KLD config with its schedule stretched to 32 epochs. At 16
# epochs the detector is still on the steep part of its curve, where the rounding of another CPU or another
# seed moves mAP50 by up to 0.12; at 32 the curve has flattened (docs/benchmarks.md, "The demo").
_base_ = './rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'
max_epochs = 32
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(interval=8))
