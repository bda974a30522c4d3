# The embedded toy DOTA-format set (tools/data/toy_dota.py): ship / tank / plane, 256-512 px images.
dataset_type = 'DOTADataset'
data_root = 'data/toy_dota/'
metainfo = dict(classes=('ship', 'tank', 'plane'), palette=[(220, 120, 20), (40, 160, 40), (60, 60, 230)])
backend_args = None

# LoadImageFromFileBitDepth: mmdet's LoadImageFromFile (8-bit images load bit-identically) that scales 12/16-bit
# PNG/TIFF to 8 bits by their real range (bit_depth='auto' | 8..16 | 'refuse'; docs/user_guides/custom_data.md)
train_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto', backend_args=backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(384, 384), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(384, 384), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), batch_sampler=None,
    dataset=dict(type=dataset_type, metainfo=metainfo, data_root=data_root, ann_file='train/labelTxt/',
                 data_prefix=dict(img_path='train/images/'), filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, metainfo=metainfo, data_root=data_root, ann_file='val/labelTxt/',
                 data_prefix=dict(img_path='val/images/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='DOTAMetric', metric='mAP', iou_thrs=[0.5, 0.75])
test_evaluator = val_evaluator
