# Source training with the ENet-style network of the SFDA papers instead of the UNet (same schedule).
_base_ = './source_unet-gn_600it_toy-shift.py'
model = dict(
    backbone=dict(_delete_=True, type='ENet', in_channels=1, base_channels=16, stage_blocks=(2, 2, 4)),
    decode_head=dict(in_channels=16, in_index=0, channels=16, num_convs=0))
