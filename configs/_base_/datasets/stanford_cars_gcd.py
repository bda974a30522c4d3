# GCD on Stanford Cars with the Semantic Shift Benchmark split (SimGCD's --use_ssb_splits): 98 known and 98
# novel classes, half of the known-class training images labelled (numpy seed 0).
# Layout: data/stanford_cars/{devkit/cars_train_annos.mat, devkit/cars_meta.mat, cars_train/}.
# Split: python tools/data/gcd/ssb_splits_to_json.py SimGCD/data/ssb_splits/scars_osr_splits.pkl \
#            data/ssb_splits/scars_osr_splits.json
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='StanfordCarsDataset', data_root='data/stanford_cars', split='train')
split_file = 'data/ssb_splits/scars_osr_splits.json'
train_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                     pipeline={{_base_.file_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                   pipeline={{_base_.file_test_pipeline}}))
test_dataloader = val_dataloader
