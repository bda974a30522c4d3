# GCD on ImageNet-100 (SimGCD's split): SimGCD's 100 classes (numpy seed 0 draw from the 1000 sorted wnids,
# see ImageNet100Dataset), the first 50 of them known, half of their training images labelled (numpy seed 0).
# Layout: data/imagenet/train/<wnid>/*.JPEG with all 1000 class folders (the draw needs them; or pass
# `classes` = a file with the 100 wnids).
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='ImageNet100Dataset', data_root='data/imagenet', split='train')
known_classes = 50
train_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                     pipeline={{_base_.file_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, known_classes=known_classes,
                                   pipeline={{_base_.file_test_pipeline}}))
test_dataloader = val_dataloader
