# The offline distillation study's teacher: SmallConvNet with stages 32/64/128 (3x3 conv-BN-ReLU, 2x2 max pooling
# between stages, global average pooling at the end: no neck) + a 10-way linear head; 94,186 parameters.
# Inputs: 28x28 grey, MNIST's mean/std (0.1307, 0.3081) on the 0-255 scale.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3285], std=[78.5655]),
    backbone=dict(type='SmallConvNet', in_channels=1, widths=(32, 64, 128)),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
