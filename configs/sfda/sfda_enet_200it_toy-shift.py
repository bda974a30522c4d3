# SFDA adaptation of the ENet-style source model (source_enet_600it_toy-shift.py); same losses and schedule.
_base_ = './sfda_unet-gn_200it_toy-shift.py'
model = dict(
    backbone=dict(_delete_=True, type='ENet', in_channels=1, base_channels=16, stage_blocks=(2, 2, 4)),
    decode_head=dict(in_channels=16, in_index=0, channels=16, num_convs=0))
load_from = 'work_dirs/source_enet_600it_toy-shift/iter_600.pth'
