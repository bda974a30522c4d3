# GCD on CIFAR-100 (SimGCD's split): fine classes 0-79 known, half of their training images labelled (numpy
# seed 0), 80-99 novel; 224-px views of the 32x32 images.
# Layout: data/cifar100/cifar-100-python/{train, meta} (the official python version).
# CIFAR images are in memory and RGB: the model configs set data_preprocessor.bgr_to_rgb=False.
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='CIFAR100Dataset', data_root='data/cifar100', split='train')
known_classes = 80
train_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                     pipeline={{_base_.array_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                   pipeline={{_base_.array_test_pipeline}}))
test_dataloader = val_dataloader
