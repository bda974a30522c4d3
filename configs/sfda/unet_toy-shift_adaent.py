# Baseline AdaEnt: entropy minimisation only, same schedule as SFDA.
_base_ = './unet_toy-shift_sfda.py'
model = dict(adapt_losses=[dict(type='EntropyLoss')])
