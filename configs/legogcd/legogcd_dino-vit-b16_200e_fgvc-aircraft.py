# LegoGCD on FGVC-Aircraft (SSB split): the SimGCD config + Local Entropy Regularization (thr 0.9, LegoGCD's
# scripts/run_aircraft.sh; its other settings are SimGCD's) and the dual-view KL. The dual_view_kl_mode='correct' is
# the paper's Eq. 11; dual_view_kl_mode='official' reproduces the official code (log_softmax applied to probabilities:
# a much flatter, weaker term).
_base_ = ['../simgcd/simgcd_dino-vit-b16_200e_fgvc-aircraft.py']
model = dict(
    type='LegoGCD',
    loss_ler=dict(type='LocalEntropyLoss', thr=0.9, tau=0.05, margin=0.4, momentum=0.999, loss_weight=2.0),
    dual_view_kl_mode='correct',
    loss_dual_view_kl=dict(type='DualViewKLLoss', direction='one-way', stop_grad=False))
