# smallconvnet-w8 trained alone on MNIST-5k's 1000-image training split (the "student alone" row of
# benchmarks/kd_study.py): cross-entropy only, the KD study's 24-epoch schedule.
_base_ = [
    '../_base_/models/smallconvnet-w8_mnist.py',
    '../_base_/datasets/mnist5k_cls.py',
    '../_base_/schedules/mnist5k_sgd_24e.py',
    '../_base_/cls_runtime.py',
]
