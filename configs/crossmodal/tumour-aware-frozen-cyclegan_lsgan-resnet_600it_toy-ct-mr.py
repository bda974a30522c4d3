# The tumour-aware translator with its segmenter frozen (our default until the semi-supervised term; CyCADA's
# semantic consistency): the MR-only segmenter judges the pseudo-MR and never learns. Its own errors are then
# trained into the pseudo-MR (the generator hides what the judge mistakes for a tumour). Over 5 seeds of the toy
# study it gave Dice 0.684, the fine-tuned segmenter 0.682 (configs/crossmodal/README.md).
_base_ = './cyclegan_lsgan-resnet_600it_toy-ct-mr.py'
segmenter_config = 'configs/crossmodal/unet_mr-only_400it_toy-ct-mr.py'
# written by: python tools/train.py configs/crossmodal/unet_mr-only_400it_toy-ct-mr.py
segmenter_checkpoint = 'work_dirs/unet_mr-only_400it_toy-ct-mr/iter_400.pth'
model = dict(
    tumour_loss=dict(type='TumourAwareLoss', seg_weight=1.0, cycle_weight=0.0),
    segmentor=dict(type='PretrainedSegmentor', config=segmenter_config, checkpoint=segmenter_checkpoint,
                   frozen=True))
