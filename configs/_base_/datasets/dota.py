# DOTA-v1.0 on 1024x1024 patches with a 200 px gap (tools/data/dota/split.py), single scale.
dataset_type = 'DOTADataset'
data_root = 'data/split_ss_dota/'
backend_args = None

# LoadImageFromFileBitDepth: mmdet's LoadImageFromFile (8-bit images load bit-identically) that scales 12/16-bit
# PNG/TIFF to 8 bits by their real range (bit_depth='auto' | 8..16 | 'refuse'; docs/user_guides/custom_data.md)
train_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto', backend_args=backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    # annotations are loaded after Resize: ground truth stays at the original scale
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
test_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(type='mmdet.PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), batch_sampler=None,
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='trainval/annfiles/',
                 data_prefix=dict(img_path='trainval/images/'), filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='trainval/annfiles/',
                 data_prefix=dict(img_path='trainval/images/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='DOTAMetric', metric='mAP')
test_evaluator = val_evaluator

# Online submission for DOTA test-dev: uncomment, then zip lands in outfile_prefix.
# test_dataloader = dict(
#     batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
#     sampler=dict(type='DefaultSampler', shuffle=False),
#     dataset=dict(type=dataset_type, data_root=data_root, data_prefix=dict(img_path='test/images/'),
#                  ann_file='', test_mode=True, pipeline=test_pipeline))
# test_evaluator = dict(type='DOTAMetric', format_only=True, merge_patches=True,
#                       outfile_prefix='./work_dirs/dota/Task1')
