# The light ENet-style network of the SFDA papers, with a 1x1 classifier and CE + Dice.
_base_ = './unet_seg.py'
model = dict(
    backbone=dict(_delete_=True, type='ENet', in_channels=1, base_channels=16, stage_blocks=(2, 2, 4)),
    decode_head=dict(type='mmseg.FCNHead', in_channels=16, in_index=0, channels=16, num_convs=0))
