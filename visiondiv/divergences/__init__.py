"""The divergences every task module is built on: the ground floor of the package.

``gaussian``: between 2-D Gaussians (the Gaussian view of rotated boxes), for the rotated-box losses.
``categorical``: between categorical distributions (softmax outputs, class ratios), for the
segmentation, GCD and distillation losses and the intensity-histogram metric.
``optimal_transport``: entropic OT (Sinkhorn) between discrete distributions, for WKD.

This package imports only :mod:`visiondiv.structures` (and torch): losses, metrics and hooks import it,
never the other way round.
"""
from .categorical import categorical_kl, cross_entropy, entropy
from .gaussian import (bhattacharyya_distance, jeffreys_divergence, kalman_overlap, kl_divergence, mahalanobis_sq,
                       postprocess_distance, safe_sqrt, wasserstein_sq)
from .optimal_transport import sinkhorn

__all__ = [
    'categorical_kl', 'cross_entropy', 'entropy', 'bhattacharyya_distance', 'jeffreys_divergence', 'kalman_overlap',
    'kl_divergence', 'mahalanobis_sq', 'postprocess_distance', 'safe_sqrt', 'wasserstein_sq', 'sinkhorn'
]
