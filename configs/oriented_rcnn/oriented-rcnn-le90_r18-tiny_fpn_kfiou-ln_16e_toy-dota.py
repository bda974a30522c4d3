# Toy Oriented R-CNN with KFIoU (ln) on the R-CNN head: RotatedShared2FCBBoxHead gives KFLoss the deltas of the
# positive RoIs plus their decoded boxes (loss_bbox_type='kfiou').
_base_ = './oriented-rcnn-le90_r18-tiny_fpn_16e_toy-dota.py'

model = dict(roi_head=dict(bbox_head=dict(
    type='RotatedShared2FCBBoxHead', loss_bbox_type='kfiou',
    loss_bbox=dict(_delete_=True, type='KFLoss', fun='ln', loss_weight=5.0))))
