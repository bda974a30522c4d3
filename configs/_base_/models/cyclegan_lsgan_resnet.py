# CycleGAN for 1-channel CT -> MR slices (64-128 px): ResNet generators, PatchGAN discriminators, LSGAN.
# Smaller than CycleGAN's 256-px default (base 64, 9 blocks) so that it trains on 2 CPU cores.
model = dict(
    type='CycleGAN',
    domains=('ct', 'mr'),
    data_preprocessor=dict(type='TranslationDataPreprocessor', mean=0.5, std=0.5),   # [0, 1] -> [-1, 1]
    generator=dict(type='ResnetGenerator', in_channels=1, out_channels=1, base_channels=16, num_blocks=4,
                   norm_cfg=dict(type='IN')),
    discriminator=dict(type='PatchDiscriminator', in_channels=1, base_channels=16, num_conv=3,
                       norm_cfg=dict(type='IN')),
    gan_loss=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    cycle_loss=dict(type='mmdet.L1Loss', loss_weight=10.0),
    id_loss=dict(type='mmdet.L1Loss', loss_weight=5.0),      # 0.5 x the cycle weight, as CycleGAN
    buffer_size=50)
