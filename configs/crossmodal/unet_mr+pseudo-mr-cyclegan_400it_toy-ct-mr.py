# Study arm 5: labelled MR + pseudo-MR from the plain CycleGAN (no tumour-aware term); the recipe of arm 6
# (unet_mr+pseudo-mr-tumour-aware_400it_toy-ct-mr.py) with configs/crossmodal/cyclegan_lsgan-resnet_600it_toy-ct-mr.py
# as the translator, translated into data/toy_ct_mr/pseudo_mr/cyclegan/.
_base_ = './unet_mr-only_400it_toy-ct-mr.py'
pseudo_mr_root = 'data/toy_ct_mr/pseudo_mr/cyclegan/'
pseudo_mr = dict(type='MedicalSliceDataset', data_root=pseudo_mr_root, metainfo={{_base_.metainfo}},
                 normalize='percentile', img_dir='images', label_dir='labels', pipeline={{_base_.train_pipeline}})
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=[{{_base_.mr_repeated}}, pseudo_mr]))
