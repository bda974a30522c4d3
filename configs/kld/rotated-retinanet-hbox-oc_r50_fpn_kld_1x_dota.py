# Rotated RetinaNet (hbox anchors, oc) + the original KLD loss (GDLoss_v1), R50-FPN, 1x, DOTA-v1.0
# (mmrotate's rotated-retinanet-hbox-oc_r50_fpn_kld_1x_dota).
_base_ = '../rotated_retinanet/rotated-retinanet-hbox-oc_r50_fpn_1x_dota.py'
model = dict(bbox_head=dict(reg_decoded_bbox=True,
                            loss_bbox=dict(_delete_=True, type='GDLoss_v1', loss_type='kld', fun='log1p', tau=1,
                                           loss_weight=1.0)))
