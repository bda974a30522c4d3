# The offline distillation study's student: SmallConvNet with stages 8/16/32, a quarter of the teacher's widths
# (smallconvnet-w32_mnist.py; global average pooling at the end: no neck) + a 10-way linear head; 6,274
# parameters. Inputs: 28x28 grey, MNIST's mean/std (0.1307, 0.3081) on the 0-255 scale.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3285], std=[78.5655]),
    backbone=dict(type='SmallConvNet', in_channels=1, widths=(8, 16, 32)),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
              loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
