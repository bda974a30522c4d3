# Toy baseline: the demo detector with a smooth-L1 loss on the encoded deltas (for benchmarks/loss_study.py).
_base_ = '../kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py'
model = dict(bbox_head=dict(
    reg_decoded_bbox=False,
    loss_bbox=dict(_delete_=True, type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)))
