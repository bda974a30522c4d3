# Study arm 3: labelled MR with the standard geometric + photometric albumentations recipe (no CT).
_base_ = './unet_mr-only_400it_toy-ct-mr.py'
standard_aug = dict(type='SliceAlbu', transforms=[
    dict(type='Affine', scale=(0.9, 1.1), translate_percent=(-0.0625, 0.0625), rotate=(-15, 15), p=0.5),
    dict(type='OneOf', transforms=[dict(type='ElasticTransform', alpha=30, sigma=6),
                                   dict(type='GridDistortion', num_steps=5, distort_limit=0.2)], p=0.3),
    dict(type='RandomBrightnessContrast', brightness_limit=0.1, contrast_limit=0.1, p=0.5),
    dict(type='RandomGamma', gamma_limit=(80, 120), p=0.5),
    dict(type='GaussNoise', std_range=(0.01, 0.05), p=0.3)])
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='mmseg.RandomFlip', prob=0.5, direction='horizontal'), standard_aug,
    dict(type='mmseg.PackSegInputs', meta_keys={{_base_.meta_keys}})]))
