# GCD on scikit-learn's optical digits (1797 8x8 images, bundled; nothing downloaded): digits 0-4 known, half
# of their images labelled (split seed 0); 5-9 novel. Transductive evaluation on the unlabelled images.
base_dataset = dict(type='DigitsDataset')
known_classes = 5
view_transforms = [
    dict(type='SliceAlbu', transforms=[
        # zero pad to 10x10, then a random 8x8 crop: shifts of up to one pixel (no flips: digits are not symmetric)
        dict(type='PadIfNeeded', min_height=10, min_width=10),
        dict(type='RandomCrop', height=8, width=8)]),
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
                 subset='unlabelled', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='GCDAccuracy', eval_funcs=('v2', 'v2b', 'v1'))
test_evaluator = val_evaluator
