# Toy: the demo detector with the GWD loss (mmrotate's setting: loss_type='gwd', loss_weight=5.0).
_base_ = '../kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'
model = dict(bbox_head=dict(loss_bbox=dict(_delete_=True, type='GDLoss', loss_type='gwd', loss_weight=5.0)))
