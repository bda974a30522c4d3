from .accuracy import Accuracy
from .dota_metric import DOTAMetric, HRSCMetric, parse_patch_name
from .gcd_metric import GCDAccuracy
from .intensity_kl_metric import IntensityKL
from .medical_metric import MedicalVolumeMetric

__all__ = ['Accuracy', 'DOTAMetric', 'HRSCMetric', 'parse_patch_name', 'MedicalVolumeMetric', 'IntensityKL',
           'GCDAccuracy']
