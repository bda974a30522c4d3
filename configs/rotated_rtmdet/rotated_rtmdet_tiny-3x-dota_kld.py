# RTMDet-R tiny with KLD (GDLoss, mmrotate's KLD recipe: log1p, tau 1, no sqrt) in place of RotatedIoULoss
# (mmyolo#836: NaN on DOTA in mmrotate/mmyolo). The head passes the predicted sides to the Gaussian loss through a
# soft floor, because its exp_on_reg=False distances give sides <= 0 (visiondiv/models/dense_heads/
# rotated_rtmdet_head.py). loss_weight 2.0 is the IoU loss's, not tuned.
_base_ = './rotated_rtmdet_tiny-3x-dota.py'

model = dict(
    bbox_head=dict(
        loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False,
                       loss_weight=2.0)))
