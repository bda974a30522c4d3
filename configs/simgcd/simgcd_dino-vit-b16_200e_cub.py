# SimGCD on CUB-200-2011 (SSB split): DINO ViT-B/16 (blocks >= 11 trained), 100 known of 200 classes, SimGCD's
# scripts/run_cub.sh (memax_weight 2; lr 0.1, weight decay 5e-5, 200 epochs, batch 128).
_base_ = ['../_base_/models/simgcd_dino-vit-b16.py', '../_base_/datasets/cub_gcd.py',
          '../_base_/schedules/gcd_sgd_200e.py', '../_base_/gcd_runtime.py']
model = dict(num_known_classes=100, head=dict(num_classes=200), loss_me_max=dict(loss_weight=2.0))
