from .dota import DOTADataset, DOTAFormatError, DOTAv2Dataset, DOTAv15Dataset
from .hrsc import HRSCDataset
from .medical import MedicalSliceDataset, check_labels, load_nifti, normalize_volume, save_nifti
from .medical_io import DicomSeries, read_dicom_seg, read_dicom_series, read_image, read_rtstruct
from .transforms import *  # noqa: F401,F403
from .unpaired_slice import UnpairedSliceDataset

__all__ = ['DOTADataset', 'DOTAv15Dataset', 'DOTAv2Dataset', 'DOTAFormatError', 'HRSCDataset', 'MedicalSliceDataset',
           'check_labels', 'load_nifti', 'normalize_volume', 'save_nifti', 'UnpairedSliceDataset', 'DicomSeries',
           'read_image', 'read_dicom_series', 'read_rtstruct', 'read_dicom_seg']
from .cifar import CIFAR10Dataset, CIFAR100Dataset
from .classification import ClassificationDataset
from .cub import CUB200Dataset
from .fgvc_aircraft import FGVCAircraftDataset
from .herbarium19 import Herbarium19Dataset
from .image_folder import ImageFolderDataset
from .imagenet100 import ImageNet100Dataset, imagenet100_classes
from .stanford_cars import StanfordCarsDataset

__all__ += ['ClassificationDataset', 'CIFAR10Dataset', 'CIFAR100Dataset', 'CUB200Dataset', 'FGVCAircraftDataset',
            'Herbarium19Dataset', 'ImageFolderDataset', 'ImageNet100Dataset', 'imagenet100_classes',
            'StanfordCarsDataset']
from .gcd_dataset import GCDDataset, load_gcd_split, resolve_classes
from .samplers import GCDBalancedSampler
from .toy_digits import DigitsDataset, MNIST5kDataset

__all__ += ['GCDDataset', 'load_gcd_split', 'resolve_classes', 'GCDBalancedSampler', 'DigitsDataset',
            'MNIST5kDataset']
