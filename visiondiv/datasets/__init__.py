from .cifar import CIFAR10Dataset, CIFAR100Dataset
from .classification import ClassificationDataset
from .cub import CUB200Dataset
from .dota import DOTADataset, DOTAFormatError, DOTAv2Dataset, DOTAv15Dataset
from .fgvc_aircraft import FGVCAircraftDataset
from .gcd_dataset import GCDDataset, load_gcd_split, resolve_classes
from .herbarium19 import Herbarium19Dataset
from .hrsc import HRSCDataset
from .image_folder import ImageFolderDataset
from .imagenet100 import ImageNet100Dataset, imagenet100_classes
from .medical import MedicalSliceDataset, load_nifti, normalize_volume, save_nifti
from .patches import PATCH_PADDING_VALUE, crop_patch, sliding_windows
from .medical_io import DicomSeries, read_dicom_seg, read_dicom_series, read_image, read_rtstruct
from .samplers import GCDBalancedSampler
from .stanford_cars import StanfordCarsDataset
from .toy_digits import DigitsDataset, MNIST5kDataset
from .transforms import *  # noqa: F401,F403
from .unpaired_slice import UnpairedSliceDataset

__all__ = ['DOTADataset', 'DOTAv15Dataset', 'DOTAv2Dataset', 'DOTAFormatError', 'HRSCDataset', 'MedicalSliceDataset',
           'load_nifti', 'normalize_volume', 'save_nifti', 'UnpairedSliceDataset', 'DicomSeries', 'read_image',
           'read_dicom_series', 'read_rtstruct', 'read_dicom_seg', 'ClassificationDataset', 'CIFAR10Dataset',
           'CIFAR100Dataset', 'CUB200Dataset', 'FGVCAircraftDataset', 'Herbarium19Dataset', 'ImageFolderDataset',
           'ImageNet100Dataset', 'imagenet100_classes', 'StanfordCarsDataset', 'GCDDataset', 'load_gcd_split',
           'resolve_classes', 'GCDBalancedSampler', 'DigitsDataset', 'MNIST5kDataset', 'sliding_windows', 'crop_patch',
           'PATCH_PADDING_VALUE']
