# Toy: the demo detector with the KFIoU loss (deltas + decoded boxes, loss_weight=5.0 as mmrotate).
_base_ = '../kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'
model = dict(bbox_head=dict(
    reg_decoded_bbox=False, loss_bbox_type='kfiou',
    loss_bbox=dict(_delete_=True, type='KFLoss', loss_weight=5.0)))
