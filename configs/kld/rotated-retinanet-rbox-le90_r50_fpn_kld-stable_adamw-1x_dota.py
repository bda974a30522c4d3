# mmrotate model zoo: the KLD RetinaNet trained with AdamW (the 71.30 row).
_base_ = './rotated-retinanet-rbox-le90_r50_fpn_kld-stable_1x_dota.py'
optim_wrapper = dict(_delete_=True, type='OptimWrapper', clip_grad=dict(max_norm=35, norm_type=2),
                     optimizer=dict(type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05))
