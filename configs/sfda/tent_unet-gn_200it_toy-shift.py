# Baseline Tent: entropy minimisation updating only the normalisation layers' scale and shift (GroupNorm here).
_base_ = './sfda_unet-gn_200it_toy-shift.py'
model = dict(trainable='norm_affine', adapt_losses=[dict(type='EntropyLoss')])
optim_wrapper = dict(optimizer=dict(lr=1e-3))
