# mmrotate model zoo: Rotated RetinaNet with horizontal anchors (hbox), oc angles, R50-FPN, 1x, DOTA-v1.0.
# "hbox": anchors are assigned by the IoU of the horizontal envelopes (FakeRBboxOverlaps2D), as in mmrotate.
_base_ = './rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py'
angle_version = 'oc'
model = dict(
    bbox_head=dict(
        # angle_version=None keeps the anchors at angle 0, as the published (mmrotate v0.1.0) checkpoints
        # were trained; mmrotate 1.x's config says 'oc' (its FakeRotatedAnchorGenerator notes None for them)
        anchor_generator=dict(_delete_=True, type='FakeRotatedAnchorGenerator', angle_version=None,
                              octave_base_scale=4, scales_per_octave=3, ratios=[1.0, 0.5, 2.0],
                              strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=None,
                        edge_swap=False, proj_xy=False)),
    train_cfg=dict(assigner=dict(iou_calculator=dict(_delete_=True, type='FakeRBboxOverlaps2D'))))
