# Study arm 4: labelled MR + CT histogram-matched to the pooled labelled-MR intensity distribution
# (skimage's match_histograms through visiondiv's HistogramMatching transform).
_base_ = './unet_mr-only_400it_toy-ct-mr.py'
mr_reference = [f'data/toy_ct_mr/mr/train/images/mr_{i:03d}.nii.gz' for i in range(6)]
ct_histmatched = dict(
    type='MedicalSliceDataset', data_root='data/toy_ct_mr/', metainfo={{_base_.metainfo}}, normalize='percentile',
    img_dir='ct/train/images', label_dir='ct/train/labels',
    pipeline=[dict(type='HistogramMatching', reference=mr_reference),
              dict(type='mmseg.RandomFlip', prob=0.5, direction='horizontal'),
              dict(type='mmseg.PackSegInputs', meta_keys={{_base_.meta_keys}})])
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset',
                                     datasets=[{{_base_.mr_repeated}}, ct_histmatched]))
