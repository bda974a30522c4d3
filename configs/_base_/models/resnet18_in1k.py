# ResNet-18 for ImageNet-1k (torchvision's resnet18: mmdet's ResNet has the same module names, so torchvision
# weights load under ``backbone.``): global average pooling + a 1000-way linear head (512 features). ImageNet
# mean/std on the 0-255 scale; file images are decoded BGR, hence to_rgb=True. No zero-init of the last BN of
# the residual blocks (torchvision's default, which mdistiller uses).
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=1000, mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='mmdet.ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch',
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
              loss=dict(type='mmdet.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
