# mmrotate model zoo: Oriented R-CNN with mixed precision (the heads' losses stay fp32).
_base_ = './oriented-rcnn-le90_r50_fpn_1x_dota.py'

optim_wrapper = dict(type='AmpOptimWrapper')
