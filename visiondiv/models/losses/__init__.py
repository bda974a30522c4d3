from .gaussian_dist_loss import GDLoss, KLDLoss, gaussian_distance
from .gaussian_dist_loss_v1 import GDLoss_v1, gaussian_distance_v1
from .gaussian_divergence import (bhattacharyya_distance, jeffreys_divergence, kalman_overlap,
                                  kl_divergence, mahalanobis_sq, postprocess_distance, safe_sqrt,
                                  wasserstein_sq)
from .categorical_divergence import categorical_kl, cross_entropy, entropy
from .dice_loss import MultiClassDiceLoss, soft_dice_per_class
from .gan_loss import GANLoss
from .gcd_losses import (CrossViewDistillLoss, DualViewKLLoss, InfoNCELoss, LocalEntropyLoss, MeanEntropyLoss,
                         SupConLoss)
from .kf_iou_loss import KFIoULoss, KFLoss
from .rotated_iou_loss import RotatedIoULoss, rotated_iou_loss
from .sfda_losses import (ClassRatioBoundLoss, ClassRatioKLLoss, EntropyLoss, predicted_class_ratio,
                          validate_bounds, validate_prior)
from .tumour_aware_loss import TumourAwareLoss, binary_seg_loss, masked_l1
from .utils import BOX_INPUTS, box_loss_input, declared_box_input

__all__ = [
    'GDLoss_v1', 'gaussian_distance_v1',
    'GDLoss', 'KFLoss', 'KLDLoss', 'KFIoULoss', 'RotatedIoULoss', 'rotated_iou_loss', 'BOX_INPUTS',
    'box_loss_input', 'declared_box_input', 'gaussian_distance', 'kl_divergence', 'jeffreys_divergence',
    'wasserstein_sq', 'bhattacharyya_distance', 'kalman_overlap', 'mahalanobis_sq', 'postprocess_distance',
    'safe_sqrt', 'categorical_kl', 'entropy', 'EntropyLoss', 'ClassRatioKLLoss', 'predicted_class_ratio',
    'validate_prior', 'MultiClassDiceLoss', 'soft_dice_per_class', 'ClassRatioBoundLoss', 'validate_bounds',
    'GANLoss', 'TumourAwareLoss', 'binary_seg_loss', 'masked_l1', 'cross_entropy', 'SupConLoss', 'InfoNCELoss',
    'CrossViewDistillLoss', 'MeanEntropyLoss', 'LocalEntropyLoss', 'DualViewKLLoss'
]
