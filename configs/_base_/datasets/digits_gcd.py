# GCD on scikit-learn's optical digits (1797 8x8 images, bundled; nothing downloaded): digits 0-4 known, half
# of their images labelled (split seed 0); 5-9 novel. Transductive evaluation on the unlabelled images.
# The loaders, sampler and metric are MNIST-5k's; only the dataset and the views differ.
_base_ = './mnist5k_gcd.py'
base_dataset = dict(type='DigitsDataset')
view_transforms = [
    dict(type='SliceAlbu', transforms=[
        # zero pad to 10x10, then a random 8x8 crop: shifts of up to one pixel (no flips: digits are not symmetric)
        dict(type='PadIfNeeded', min_height=10, min_width=10),
        dict(type='RandomCrop', height=8, width=8)]),
]
train_pipeline = [dict(type='MultiView', num_views=2, transforms=view_transforms), dict(type='PackGCDInputs')]
train_dataloader = dict(dataset=dict(dataset=base_dataset, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(dataset=base_dataset))
test_dataloader = val_dataloader
