# rotated_rtmdet_tiny_16e_toy-dota.py with KLD in place of RotatedIoULoss (as rotated_rtmdet_tiny-3x-dota_kld.py).
_base_ = './rotated_rtmdet_tiny_16e_toy-dota.py'

model = dict(
    bbox_head=dict(
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False,
                       loss_weight=2.0)))
