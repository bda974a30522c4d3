# ResNet8x4 for 32x32 CIFAR-100 (mdistiller's resnet8x4, the usual KD student; 1.23M parameters): CIFARResNet
# (stem 32, stages 64/128/256) + global average pooling + a 100-way linear head. Inputs: mdistiller's CIFAR-100
# mean/std ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)) on the 0-255 scale; CIFAR arrays are RGB.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=100, mean=[129.3105, 124.1085, 112.404],
                           std=[68.2125, 65.4075, 70.4055], to_rgb=False),
    backbone=dict(type='CIFARResNet', arch='resnet8x4'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
              loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
