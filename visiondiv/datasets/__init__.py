from .dota import DOTADataset, DOTAFormatError, DOTAv2Dataset, DOTAv15Dataset
from .hrsc import HRSCDataset
from .medical import MedicalSliceDataset, check_labels, load_nifti, normalize_volume, save_nifti
from .medical_io import DicomSeries, read_dicom_seg, read_dicom_series, read_image, read_rtstruct
from .transforms import *  # noqa: F401,F403
from .unpaired_slice import UnpairedSliceDataset

__all__ = ['DOTADataset', 'DOTAv15Dataset', 'DOTAv2Dataset', 'DOTAFormatError', 'HRSCDataset', 'MedicalSliceDataset',
           'check_labels', 'load_nifti', 'normalize_volume', 'save_nifti', 'UnpairedSliceDataset', 'DicomSeries',
           'read_image', 'read_dicom_series', 'read_rtstruct', 'read_dicom_seg']
