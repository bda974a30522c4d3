# CIFAR-100 classification as in the KD benchmarks (CRD / mdistiller): 50k train / 10k test images, 100 fine
# classes; train augmentation RandomCrop(32, padding=4) + horizontal flip, test images as they are.
# Layout: data/cifar100/cifar-100-python/{train, test, meta} (the official python version, read in memory, RGB).
# Normalisation is the model's (configs/_base_/models/*_cifar.py: mdistiller's CIFAR-100 mean/std, to_rgb=False).
dataset_type = 'CIFAR100Dataset'
data_root = 'data/cifar100'
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackClsInputs'),
]
test_pipeline = [dict(type='PackClsInputs')]
# mdistiller: batch 64, 240 epochs (the schedule is not part of this file)
train_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
