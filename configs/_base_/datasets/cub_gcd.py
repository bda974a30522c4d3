# GCD on CUB-200-2011 with the Semantic Shift Benchmark split (SimGCD's --use_ssb_splits): 100 known and 100
# novel classes, half of the known-class training images labelled (numpy seed 0).
# Layout: data/cub/CUB_200_2011/{images.txt, image_class_labels.txt, train_test_split.txt, classes.txt, images/}.
# Split: python tools/data/gcd/ssb_splits_to_json.py SimGCD/data/ssb_splits/cub_osr_splits.pkl \
#            data/ssb_splits/cub_osr_splits.json
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='CUB200Dataset', data_root='data/cub', split='train')
split_file = 'data/ssb_splits/cub_osr_splits.json'
train_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                     pipeline={{_base_.file_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                   pipeline={{_base_.file_test_pipeline}}))
test_dataloader = val_dataloader
