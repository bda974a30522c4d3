from .gcd_accuracy import (EVAL_FUNCS, cluster_acc, split_cluster_acc_v1, split_cluster_acc_v2,
                           split_cluster_acc_v2_balanced)
from .intensity_kl import intensity_kl, kl_from_histograms
from .mean_ap import eval_rbbox_map, tpfp_rbox
from .surface_distance import (assd, dice_score, hd95, mask_surface, surface_distances, volume_diagonal, volume_metrics,
                               volume_ratio)

__all__ = ['eval_rbbox_map', 'tpfp_rbox', 'dice_score', 'assd', 'hd95', 'mask_surface', 'surface_distances',
           'volume_diagonal', 'volume_metrics', 'volume_ratio', 'intensity_kl', 'kl_from_histograms', 'cluster_acc',
           'split_cluster_acc_v1', 'split_cluster_acc_v2', 'split_cluster_acc_v2_balanced', 'EVAL_FUNCS']
