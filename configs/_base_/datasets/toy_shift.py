# The synthetic domain-shift set (tools/data/toy_shift.py): 3-D NIfTI phantoms, source vs target appearance.
dataset_type = 'MedicalSliceDataset'
data_root = 'data/toy_shift/'
metainfo = dict(classes=('background', 'organ', 'lesion'), palette=[(0, 0, 0), (0, 200, 0), (230, 30, 30)])
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'case_id', 'slice_idx', 'num_slices',
             'slice_axis', 'spacing', 'flip', 'flip_direction', 'reduce_zero_label')
train_pipeline = [
    dict(type='mmseg.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [dict(type='mmseg.PackSegInputs', meta_keys=meta_keys)]

source_train = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, domain='source',
                    img_dir='source/train/images', label_dir='source/train/labels', pipeline=train_pipeline)
target_train_labelled = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, domain='target',
                             img_dir='target/train/images', label_dir='target/train/labels',
                             pipeline=train_pipeline)
target_train_unlabelled = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, domain='target',
                               img_dir='target/train/images', label_dir=None, pipeline=train_pipeline)
target_test = dict(type=dataset_type, data_root=data_root, metainfo=metainfo, domain='target',
                   img_dir='target/test/images', label_dir='target/test/labels', test_mode=True,
                   pipeline=test_pipeline)

train_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=source_train)
val_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=target_test)
test_dataloader = val_dataloader
val_evaluator = dict(type='MedicalVolumeMetric', measures=('dice', 'assd', 'hd95'))
test_evaluator = val_evaluator
