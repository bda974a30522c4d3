from .dota_metric import DOTAMetric, HRSCMetric, parse_patch_name
from .medical_metric import MedicalVolumeMetric

__all__ = ["DOTAMetric", "HRSCMetric", "parse_patch_name", "MedicalVolumeMetric"]
