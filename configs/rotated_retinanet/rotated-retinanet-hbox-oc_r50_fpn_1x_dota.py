# mmrotate model zoo: Rotated RetinaNet with horizontal anchors (hbox), oc angles, R50-FPN, 1x, DOTA-v1.0.
_base_ = './rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py'
angle_version = 'oc'
model = dict(bbox_head=dict(
    anchor_generator=dict(_delete_=True, type='FakeRotatedAnchorGenerator', angle_version=None,
                          octave_base_scale=4, scales_per_octave=3, ratios=[1.0, 0.5, 2.0],
                          strides=[8, 16, 32, 64, 128]),
    bbox_coder=dict(type='DeltaXYWHTRBBoxCoder', angle_version=angle_version, norm_factor=1, edge_swap=False,
                    proj_xy=False)))
