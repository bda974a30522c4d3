# GCD on CIFAR-10 (SimGCD's split): classes 0-4 known, half of their training images labelled (numpy seed 0),
# 5-9 novel; 224-px views of the 32x32 images (SimGCD resizes them, its ViT is fixed at 224).
# Layout: data/cifar10/cifar-10-batches-py/{data_batch_1..5, batches.meta} (the official python version).
# CIFAR images are in memory and RGB: the model configs set data_preprocessor.bgr_to_rgb=False.
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='CIFAR10Dataset', data_root='data/cifar10', split='train')
known_classes = 5
train_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                     pipeline={{_base_.array_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                   pipeline={{_base_.array_test_pipeline}}))
test_dataloader = val_dataloader
