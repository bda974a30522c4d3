# mmrotate model zoo: S2ANet with mixed precision (the heads' losses, rotated NMS and the mmcv alignment ops
# run in fp32 under autocast).
_base_ = './s2anet-le135_r50_fpn_1x_dota.py'

optim_wrapper = dict(type='AmpOptimWrapper')
