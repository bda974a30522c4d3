# LegoGCD on the embedded MNIST-5k benchmark: the SimGCD toy config + LER (thr 0.95, as LegoGCD's CIFAR-10: ten easy
# classes) and the dual-view KL (dual_view_kl_mode='correct'; dual_view_kl_mode='official' reproduces the official
# code).
_base_ = ['../simgcd/simgcd_smallconvnet_20e_mnist5k.py']
model = dict(
    type='LegoGCD',
    loss_ler=dict(type='LocalEntropyLoss', thr=0.95, tau=0.05, margin=0.4, momentum=0.999, loss_weight=2.0),
    dual_view_kl_mode='correct',
    loss_dual_view_kl=dict(type='DualViewKLLoss', direction='one-way', stop_grad=False))
