from .mean_ap import eval_rbbox_map, tpfp_rbox

__all__ = ['eval_rbbox_map', 'tpfp_rbox']
