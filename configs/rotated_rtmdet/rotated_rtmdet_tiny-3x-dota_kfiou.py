# RTMDet-R tiny with KFIoU (KFLoss, fun none) in place of RotatedIoULoss (mmyolo#836; mmrotate#798: "KFIoU can't be
# used with distance2obb decoding"). The head gives KFLoss the point deltas ((centre - point) / stride, ...) besides
# the decoded boxes, and passes the predicted sides through a soft floor (visiondiv/models/dense_heads/
# rotated_rtmdet_head.py). loss_weight 2.0 is the IoU loss's, not tuned.
_base_ = './rotated_rtmdet_tiny-3x-dota.py'

model = dict(bbox_head=dict(loss_bbox=dict(_delete_=True, type='KFLoss', fun='none', loss_weight=2.0)))
