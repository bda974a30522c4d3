# SimGCD (Wen et al., ICCV 2023): DINO ViT-B/16, blocks >= 11 trained, DINOHead (3 layers, 2048 hidden,
# 256 bottleneck, cosine classifier over known + novel classes). No weights are downloaded at run time: convert
# the official DINO file once with
#   python tools/model_converters/dino2visiondiv.py dino_vitbase16_pretrain.pth checkpoints/dino_vitb16_visiondiv.pth
# Each dataset config sets model.num_known_classes and model.head.num_classes.
model = dict(
    type='SimGCD',
    num_known_classes=None,
    sup_weight=0.35,
    cls_temp=0.1,
    # ImageNet mean/std in 0-255 RGB (SimGCD's Normalize); file images are loaded BGR by LoadImageFromFile
    data_preprocessor=dict(type='GCDDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(type='CLSTokenVisionTransformer', grad_from_block=11,
                  init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dino_vitb16_visiondiv.pth')),
    head=dict(type='DINOHead', in_channels=768, num_classes=None, num_layers=3, hidden_channels=2048,
              bottleneck_channels=256),
    loss_cluster=dict(type='CrossViewDistillLoss', student_temp=0.1, teacher_temp=0.07),
    # SimGCD's memax_weight: 1 (CIFAR-10, Cars, Aircraft, ImageNet-100, Herbarium19), 2 (CUB), 4 (CIFAR-100);
    # LegoGCD's scripts: the same but 2 for CIFAR-100. The dataset configs set it.
    loss_me_max=dict(type='MeanEntropyLoss', temperature=0.1, loss_weight=1.0),
    loss_contrastive=dict(type='InfoNCELoss', temperature=1.0),
    loss_supcon=dict(type='SupConLoss', temperature=0.07, base_temperature=0.07))
