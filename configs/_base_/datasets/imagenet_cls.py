# ImageNet-1k (ILSVRC-2012) classification from class folders: data/imagenet/{train,val}/<wnid>/*.JPEG (the
# val images sorted into wnid folders, the layout torchvision's ImageFolder reads), read by ImageFolderDataset;
# labels are the sorted wnids. Images are decoded by PIL and come out BGR (the model's preprocessor converts).
# Train: Resize(short side 256) -> RandomCrop(224) -> horizontal flip. NOTE: mdistiller / torchvision train
# with RandomResizedCrop(224) (scale 0.08-1, ratio 3/4-4/3), which this project does not implement yet; this
# resize-then-crop augmentation is weaker, so ImageNet numbers trained with it are not comparable with the
# published ones. Test: Resize(short side 256) -> CenterCrop(224), as torchvision's evaluation.
dataset_type = 'ImageFolderDataset'
data_root = 'data/imagenet'
resize = dict(type='Resize', scale=(256, 1_000_000), keep_ratio=True, interpolation='bilinear', backend='pillow')
load = dict(type='LoadImageFromFile', imdecode_backend='pillow')
train_pipeline = [load, resize, dict(type='RandomCrop', crop_size=224),
                  dict(type='RandomFlip', prob=0.5, direction='horizontal'), dict(type='PackClsInputs')]
test_pipeline = [load, resize, dict(type='CenterCrop', crop_size=224), dict(type='PackClsInputs')]
# per GPU: 8 GPUs x 64 = mdistiller's batch 512
train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='val'),
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
