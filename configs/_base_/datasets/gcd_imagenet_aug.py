# SimGCD's 'imagenet' transform (data/augmentations, image_size 224, crop_pct 0.875, bicubic), shared by the
# GCD dataset configs (cifar10_gcd.py ... herbarium19_gcd.py), which add the base dataset and its class split.
#   train: Resize(256) -> RandomCrop(224) -> RandomHorizontalFlip(0.5) -> ColorJitter() -> ToTensor -> Normalize,
#          twice per image (ContrastiveLearningViewGenerator, n_views=2);
#   test:  Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize.
# SimGCD's ColorJitter() has all-default arguments (brightness = contrast = saturation = hue = 0): a no-op, left
# out. Normalize (ImageNet mean/std) is GCDDataPreprocessor's, in the model config.
# torchvision's Resize(256) on an int sets the SHORTER side to 256 (PIL bicubic, with antialiasing). mmcv's
# Resize with keep_ratio scales by min(long_limit / long side, 256 / short side): with a long-edge limit that
# never binds the short side becomes 256, and backend='pillow' runs the same PIL bicubic resize. One difference:
# mmcv rounds the longer side (int(x + 0.5)), torchvision truncates it, so about half the images come out one
# pixel longer (e.g. 300x451 -> 256x385, torchvision 256x384) before the 224 crop; the short side and the
# kernel are identical.
img_size = 224
resize_size = int(img_size / 0.875)   # 256
resize = dict(type='Resize', scale=(resize_size, 1_000_000), keep_ratio=True, interpolation='bicubic',
              backend='pillow')
# mmseg's RandomCrop draws the offsets uniformly as torchvision's RandomCrop (cat_max_ratio=1: no seg map used)
train_view = [resize, dict(type='mmseg.RandomCrop', crop_size=img_size),
              dict(type='RandomFlip', prob=0.5, direction='horizontal')]
test_view = [resize, dict(type='CenterCrop', crop_size=img_size)]
# File images: decoded once per sample by PIL and converted to RGB without applying EXIF orientation, as
# torchvision's default_loader (Image.open(f).convert('RGB')); mmcv returns BGR, so the model's
# GCDDataPreprocessor has bgr_to_rgb=True. In-memory images (CIFAR) are RGB already: their configs set
# bgr_to_rgb=False.
load = dict(type='LoadImageFromFile', imdecode_backend='pillow', color_type='color_ignore_orientation')
file_train_pipeline = [load, dict(type='MultiView', num_views=2, transforms=train_view), dict(type='PackGCDInputs')]
file_test_pipeline = [load, *test_view, dict(type='PackGCDInputs')]
array_train_pipeline = [dict(type='MultiView', num_views=2, transforms=train_view), dict(type='PackGCDInputs')]
array_test_pipeline = [*test_view, dict(type='PackGCDInputs')]

# SimGCD: batch 128 with the labelled/unlabelled-balancing WeightedRandomSampler, drop_last; half of the
# known-class samples labelled (prop_train_labels 0.5, numpy seed 0). Evaluation is transductive: the
# unlabelled training samples, batch 256, with the test transform.
train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='GCDBalancedSampler'),
    dataset=dict(type='GCDDataset', labelled_ratio=0.5, seed=0, subset='train'))
val_dataloader = dict(
    batch_size=256, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GCDDataset', labelled_ratio=0.5, seed=0, subset='unlabelled', test_mode=True))
test_dataloader = val_dataloader
# SimGCD's headline number: one Hungarian assignment over all classes (v2)
val_evaluator = dict(type='GCDAccuracy', eval_funcs=('v2', ))
test_evaluator = val_evaluator
