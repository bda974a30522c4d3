# ResNet32x4 for 32x32 CIFAR-100 (mdistiller's resnet32x4, the usual KD teacher; 7.43M parameters): the
# resnet8x4 model with 5 basic blocks per stage instead of 1.
_base_ = './resnet8x4_cifar.py'
model = dict(backbone=dict(arch='resnet32x4'))
