# mmrotate model zoo: Rotated RetinaNet (hbox anchors, oc) + KLD (stable), R50-FPN, 1x, DOTA-v1.0.
_base_ = '../rotated_retinanet/rotated-retinanet-hbox-oc_r50_fpn_1x_dota.py'
model = dict(bbox_head=dict(
    reg_decoded_bbox=True,
    loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='kld', fun='log1p', tau=1, sqrt=False, loss_weight=5.5)))
