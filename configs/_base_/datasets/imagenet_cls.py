# ImageNet-1k (ILSVRC-2012) classification from class folders: data/imagenet/{train,val}/<wnid>/*.JPEG (the
# val images sorted into wnid folders, the layout torchvision's ImageFolder reads), read by ImageFolderDataset;
# labels are the sorted wnids. Images are decoded by PIL and come out BGR (the model's preprocessor converts).
# Train: RandomResizedCrop(224) (area 0.08-1, ratio 3/4-4/3, PIL bilinear) -> horizontal flip, as mdistiller /
# torchvision train. Test: Resize(short side 256) -> CenterCrop(224), as torchvision's evaluation.
dataset_type = 'ImageFolderDataset'
data_root = 'data/imagenet'
resize = dict(type='Resize', scale=(256, 1_000_000), keep_ratio=True, interpolation='bilinear', backend='pillow')
load = dict(type='LoadImageFromFile', imdecode_backend='pillow')
train_pipeline = [load, dict(type='RandomResizedCrop', scale=224, backend='pillow'),
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
