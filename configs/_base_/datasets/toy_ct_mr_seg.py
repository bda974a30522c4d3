# Tumour segmentation on the toy CT/MR set: <= 6 labelled MR volumes for training, a separate MR test set.
# Every image is normalised per volume with percentiles (0.5, 99.5) to [0, 1], whatever its modality,
# as the segmenter sees MR; CT-derived training sets (raw CT, pseudo-MR) are defined in the configs.
dataset_type = 'MedicalSliceDataset'
data_root = 'data/toy_ct_mr/'
metainfo = dict(classes=('background', 'tumour'), palette=[(0, 0, 0), (230, 30, 30)])
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'case_id', 'slice_idx', 'num_slices',
             'slice_axis', 'spacing', 'flip', 'flip_direction', 'reduce_zero_label')
train_pipeline = [
    dict(type='mmseg.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)]
mr_train = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, normalize='percentile',
                img_dir='mr/train/images', label_dir='mr/train/labels', pipeline=train_pipeline)
ct_train = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, normalize='percentile',
                img_dir='ct/train/images', label_dir='ct/train/labels', pipeline=train_pipeline)
mr_test = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, normalize='percentile',
               img_dir='mr/test/images', label_dir='mr/test/labels', test_mode=True, pipeline=test_pipeline)

train_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=mr_train)
val_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=mr_test)
test_dataloader = val_dataloader
val_evaluator = dict(type='MedicalVolumeMetric', measures=('dice', 'hd95', 'volume_ratio'))
test_evaluator = val_evaluator
