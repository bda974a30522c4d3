# rotated_rtmdet_tiny_16e_toy-dota.py with KFIoU in place of RotatedIoULoss (as rotated_rtmdet_tiny-3x-dota_kfiou.py).
_base_ = './rotated_rtmdet_tiny_16e_toy-dota.py'

model = dict(bbox_head=dict(loss_bbox=dict(_delete_=True, type='KFLoss', fun='none', loss_weight=2.0)))
