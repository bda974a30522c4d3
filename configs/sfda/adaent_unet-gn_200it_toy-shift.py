# Baseline AdaEnt: entropy minimisation only, same schedule as SFDA.
_base_ = './sfda_unet-gn_200it_toy-shift.py'
model = dict(adapt_losses=[dict(type='EntropyLoss')])
