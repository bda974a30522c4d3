# Study arm 6: labelled MR + pseudo-MR of the labelled CT from the tumour-aware translator, written offline:
#   python tools/train.py configs/crossmodal/unet_mr-only_400it_toy-ct-mr.py   # the term's segmenter
#   python tools/train.py configs/crossmodal/tumour-aware-cyclegan_lsgan-resnet_600it_toy-ct-mr.py \
#       --work-dir work_dirs/tumour_aware_cyclegan
#   python tools/data/medical/translate.py work_dirs/tumour_aware_cyclegan/iter_600.pth \
#       --ct-dir data/toy_ct_mr/ct/train/images --labels data/toy_ct_mr/ct/train/labels \
#       --out data/toy_ct_mr/pseudo_mr/tumour_aware/images --out-labels data/toy_ct_mr/pseudo_mr/tumour_aware/labels
# The pseudo-MR keep the CT tumour labels. benchmarks/crossmodal_study.py points pseudo_mr_root at its own copies.
_base_ = './unet_mr-only_400it_toy-ct-mr.py'
pseudo_mr_root = 'data/toy_ct_mr/pseudo_mr/tumour_aware/'
pseudo_mr = dict(type='MedicalSliceDataset', data_root=pseudo_mr_root, metainfo={{_base_.metainfo}},
                 normalize='percentile', img_dir='images', label_dir='labels', pipeline={{_base_.train_pipeline}})
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=[{{_base_.mr_repeated}}, pseudo_mr]))
