# SimGCD on Herbarium 2019: DINO ViT-B/16 (blocks >= 11 trained), 341 known of 683 classes, SimGCD's
# scripts/run_herb19.sh (memax_weight 1; lr 0.1, weight decay 5e-5, 200 epochs, batch 128).
_base_ = ['../_base_/models/simgcd_dino-vit-b16.py', '../_base_/datasets/herbarium19_gcd.py',
          '../_base_/schedules/gcd_sgd_200e.py', '../_base_/gcd_runtime.py']
model = dict(num_known_classes=341, head=dict(num_classes=683))
