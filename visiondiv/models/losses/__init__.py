from .gaussian_dist_loss import KLDLoss, gaussian_distance
from .gaussian_divergence import (bhattacharyya_distance, jeffreys_divergence, kalman_overlap,
                                  kl_divergence, mahalanobis_sq, postprocess_distance, safe_sqrt,
                                  wasserstein_sq)
from .kf_iou_loss import KFIoULoss

__all__ = [
    'KLDLoss', 'KFIoULoss', 'gaussian_distance', 'kl_divergence', 'jeffreys_divergence',
    'wasserstein_sq', 'bhattacharyya_distance', 'kalman_overlap', 'mahalanobis_sq',
    'postprocess_distance', 'safe_sqrt'
]
