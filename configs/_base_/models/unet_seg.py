# A small 2-D UNet (mmseg) with a CE + Dice loss, for 1-channel medical slices.
model = dict(
    type='mmseg.EncoderDecoder',
    data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size_divisor=16, pad_val=0, seg_pad_val=255),
    backbone=dict(type='mmseg.UNet', in_channels=1, base_channels=16, num_stages=4, strides=(1, 1, 1, 1),
                  enc_num_convs=(2, 2, 2, 2), dec_num_convs=(2, 2, 2), downsamples=(True, True, True),
                  enc_dilations=(1, 1, 1, 1), dec_dilations=(1, 1, 1), norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(
        type='mmseg.FCNHead', in_channels=16, in_index=3, channels=16, num_convs=1, concat_input=False, num_classes=3,
        dropout_ratio=0.0, norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
        loss_decode=[dict(type='mmseg.CrossEntropyLoss', loss_weight=1.0, loss_name='loss_ce'),
                     dict(type='mmseg.DiceLoss', loss_weight=1.0, loss_name='loss_dice')]),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
