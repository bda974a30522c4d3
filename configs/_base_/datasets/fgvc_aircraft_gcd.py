# GCD on FGVC-Aircraft (100 variants, the trainval images) with the Semantic Shift Benchmark split (SimGCD's
# --use_ssb_splits): 50 known and 50 novel classes, half of the known-class images labelled (numpy seed 0).
# Layout: data/fgvc-aircraft-2013b/data/{images_variant_trainval.txt, variants.txt, images/}.
# Split: python tools/data/gcd/ssb_splits_to_json.py SimGCD/data/ssb_splits/aircraft_osr_splits.pkl \
#            data/ssb_splits/aircraft_osr_splits.json
_base_ = './gcd_imagenet_aug.py'
base_dataset = dict(type='FGVCAircraftDataset', data_root='data/fgvc-aircraft-2013b', split='trainval')
split_file = 'data/ssb_splits/aircraft_osr_splits.json'
train_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                     pipeline={{_base_.file_train_pipeline}}))
val_dataloader = dict(dataset=dict(dataset=base_dataset, split_file=split_file,
                                   pipeline={{_base_.file_test_pipeline}}))
test_dataloader = val_dataloader
