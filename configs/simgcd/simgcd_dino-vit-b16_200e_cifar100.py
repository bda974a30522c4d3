# SimGCD on CIFAR-100: DINO ViT-B/16 (blocks >= 11 trained), 80 known of 100 classes, SimGCD's
# scripts/run_cifar100.sh (memax_weight 4; lr 0.1, weight decay 5e-5, 200 epochs, batch 128).
_base_ = ['../_base_/models/simgcd_dino-vit-b16.py', '../_base_/datasets/cifar100_gcd.py',
          '../_base_/schedules/gcd_sgd_200e.py', '../_base_/gcd_runtime.py']
model = dict(num_known_classes=80, head=dict(num_classes=100), loss_me_max=dict(loss_weight=4.0),
             # CIFAR images are RGB arrays in memory (no BGR file loading)
             data_preprocessor=dict(bgr_to_rgb=False))
