# SFDA adaptation of the ENet-style source model (enet_toy-shift_source.py); same losses and schedule.
_base_ = './unet_toy-shift_sfda.py'
model = dict(
    backbone=dict(_delete_=True, type='ENet', in_channels=1, base_channels=16, stage_blocks=(2, 2, 4)),
    decode_head=dict(in_channels=16, in_index=0, channels=16, num_convs=0))
load_from = 'work_dirs/enet_toy-shift_source/iter_600.pth'
