# LegoGCD on scikit-learn's 8x8 digits: the SimGCD digits config + LER (thr 0.95, LegoGCD's CIFAR-10 value: ten easy
# classes) and the dual-view KL (dual_view_kl_mode='correct'; dual_view_kl_mode='official' reproduces the official
# code).
_base_ = ['../simgcd/simgcd_smallconvnet_30e_digits.py']
model = dict(
    type='LegoGCD',
    loss_ler=dict(type='LocalEntropyLoss', thr=0.95, tau=0.05, margin=0.4, momentum=0.999, loss_weight=2.0),
    dual_view_kl_mode='correct',
    loss_dual_view_kl=dict(type='DualViewKLLoss', direction='one-way', stop_grad=False))
