# WRN-40-2 for 32x32 CIFAR-100 (mdistiller's wrn_40_2, the usual KD teacher): WideResNet + global
# average pooling + a 100-way linear head (128 features); mdistiller's CIFAR-100 mean/std as resnet8x4_cifar.py.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=100, mean=[129.3105, 124.1085, 112.404],
                           std=[68.2125, 65.4075, 70.4055], to_rgb=False),
    backbone=dict(type='WideResNet', depth=40, widen_factor=2),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=128,
              loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
