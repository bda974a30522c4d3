# GCD on Herbarium 2019 (683 species) with SimGCD's class split (herbarium_19_class_splits.pkl: 341 known
# 'Old', 342 novel 'New'), half of the known-class training images labelled (numpy seed 0).
# Layout: data/herbarium_19/train/metadata.json and the resized images data/herbarium_19/small-train/ that
# SimGCD reads (img_subdir=None reads the full-size train/ images instead).
# Split: python tools/data/gcd/ssb_splits_to_json.py SimGCD/data/ssb_splits/herbarium_19_class_splits.pkl \
#            data/ssb_splits/herbarium_19_class_splits.json
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='Herbarium19Dataset', data_root='data/herbarium_19', split='train', img_subdir='small-train')
split_file = 'data/ssb_splits/herbarium_19_class_splits.json'
train_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                     pipeline={{_base_.file_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                   pipeline={{_base_.file_test_pipeline}}))
test_dataloader = val_dataloader
# SimGCD's run_herb19.sh also reports v2b: the same assignment, accuracy averaged per class (a long tail)
val_evaluator = dict(eval_funcs=('v2', 'v2b'))
test_evaluator = val_evaluator
