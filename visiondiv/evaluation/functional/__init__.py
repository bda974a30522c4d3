from .intensity_kl import intensity_kl, kl_from_histograms
from .mean_ap import eval_rbbox_map, tpfp_rbox
from .surface_distance import (assd, dice_score, hd95, mask_surface, surface_distances, volume_diagonal, volume_ratio,
                               volume_metrics)

__all__ = ['eval_rbbox_map', 'tpfp_rbox', 'dice_score', 'assd', 'hd95', 'mask_surface', 'surface_distances',
           'volume_diagonal', 'volume_metrics', 'volume_ratio', 'intensity_kl', 'kl_from_histograms']
