from .dota_metric import DOTAMetric, HRSCMetric, parse_patch_name

__all__ = ['DOTAMetric', 'HRSCMetric', 'parse_patch_name']
