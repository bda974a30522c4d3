# A small 2-D UNet (mmseg) with a CE + per-class Dice loss, for 1-channel medical slices.
# MultiClassDiceLoss averages one Dice per foreground class; mmseg's DiceLoss pools the classes,
# so the background dominates it and small structures (the toy lesion) are never learnt.
# GroupNorm, not BatchNorm: batches mix empty and non-empty slices, and BN's running statistics
# then misrepresent them at test time (toy lesion Dice 0.95 with batch statistics, 0.40 in eval mode).
norm_cfg = dict(type='GN', num_groups=4, requires_grad=True)
model = dict(
    type='mmseg.EncoderDecoder',
    data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size_divisor=16, pad_val=0, seg_pad_val=255),
    backbone=dict(type='mmseg.UNet', in_channels=1, base_channels=16, num_stages=4, strides=(1, 1, 1, 1),
                  enc_num_convs=(2, 2, 2, 2), dec_num_convs=(2, 2, 2), downsamples=(True, True, True),
                  enc_dilations=(1, 1, 1, 1), dec_dilations=(1, 1, 1), norm_cfg=norm_cfg,
                  # named with its library: under the visiondiv scope UNet's unprefixed default would not resolve
                  upsample_cfg=dict(type='mmseg.InterpConv')),
    decode_head=dict(
        type='mmseg.FCNHead', in_channels=16, in_index=3, channels=16, num_convs=1, concat_input=False, num_classes=3,
        dropout_ratio=0.0, norm_cfg=norm_cfg, align_corners=False,
        loss_decode=[dict(type='mmseg.CrossEntropyLoss', loss_weight=1.0, loss_name='loss_ce'),
                     dict(type='MultiClassDiceLoss', loss_weight=1.0, loss_name='loss_dice')]),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
