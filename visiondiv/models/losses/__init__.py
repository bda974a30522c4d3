from .balanced_kd_loss import BalancedKDLoss
from .base_box_loss import BaseBoxLoss
from .dice_loss import MultiClassDiceLoss, soft_dice_per_class
from .decoupled_kl_loss import DecoupledKLLoss, GeneralizedKLLoss, pairwise_wmse, pairwise_wmse_dense
from .dkd_loss import DKDLoss, dkd_terms
from .gan_loss import GANLoss
from .gaussian_dist_loss import GDLoss, gaussian_distance
from .gaussian_dist_loss_v1 import GDLoss_v1, gaussian_distance_v1
from .gcd_losses import (CrossViewDistillLoss, DualViewKLLoss, InfoNCELoss, LocalEntropyLoss, MeanEntropyLoss,
                         SupConLoss)
from .kd_loss import KDLoss
from .kf_iou_loss import KFLoss
from .rotated_iou_loss import RotatedIoULoss, rotated_iou_loss
from .sfda_losses import (ClassRatioBoundLoss, ClassRatioKLLoss, EntropyLoss, predicted_class_ratio,
                          validate_bounds, validate_prior)
from .smooth_focal_loss import SmoothFocalLoss, smooth_focal_loss
from .wkd_loss import WassersteinKDLoss, class_cost, classifier_cost
from .tumour_aware_loss import TumourAwareLoss, binary_seg_loss, masked_l1
from .utils import BOX_INPUTS, box_loss_input, declared_box_input

__all__ = [
    'BaseBoxLoss', 'GDLoss_v1', 'gaussian_distance_v1', 'GDLoss', 'KFLoss', 'RotatedIoULoss', 'rotated_iou_loss',
    'BOX_INPUTS', 'box_loss_input', 'declared_box_input', 'gaussian_distance', 'EntropyLoss', 'ClassRatioKLLoss',
    'predicted_class_ratio', 'validate_prior', 'MultiClassDiceLoss', 'soft_dice_per_class', 'ClassRatioBoundLoss',
    'validate_bounds', 'GANLoss', 'TumourAwareLoss', 'binary_seg_loss', 'masked_l1', 'SupConLoss', 'InfoNCELoss',
    'CrossViewDistillLoss', 'MeanEntropyLoss', 'LocalEntropyLoss', 'DualViewKLLoss', 'SmoothFocalLoss',
    'smooth_focal_loss', 'KDLoss', 'DKDLoss', 'dkd_terms', 'DecoupledKLLoss', 'GeneralizedKLLoss', 'pairwise_wmse',
    'pairwise_wmse_dense', 'WassersteinKDLoss', 'class_cost', 'classifier_cost', 'BalancedKDLoss'
]
