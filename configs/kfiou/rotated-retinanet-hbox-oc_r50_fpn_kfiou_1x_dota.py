# mmrotate model zoo: Rotated RetinaNet (hbox anchors, oc) + KFIoU, R50-FPN, 1x, DOTA-v1.0.
_base_ = '../rotated_retinanet/rotated-retinanet-hbox-oc_r50_fpn_1x_dota.py'
model = dict(bbox_head=dict(
    reg_decoded_bbox=False, loss_bbox_type='kfiou',
    loss_bbox=dict(_delete_=True, type='KFLoss', loss_weight=5.0)))
