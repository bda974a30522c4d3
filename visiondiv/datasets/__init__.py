from .dota import DOTADataset, DOTAFormatError, DOTAv2Dataset, DOTAv15Dataset
from .hrsc import HRSCDataset
from .medical import MedicalSliceDataset, check_labels, load_nifti, normalize_volume, read_metaimage, save_nifti
from .transforms import *  # noqa: F401,F403

__all__ = ['DOTADataset', 'DOTAv15Dataset', 'DOTAv2Dataset', 'DOTAFormatError', 'HRSCDataset', 'MedicalSliceDataset',
           'check_labels', 'load_nifti', 'normalize_volume', 'read_metaimage', 'save_nifti']
