from .cyclegan import CycleGAN, ImagePool
from .cyclegan_generator import ResnetGenerator
from .tumour_segmentor import FrozenSegmentor, PretrainedSegmentor, TumourSegmentor

__all__ = ['CycleGAN', 'ImagePool', 'ResnetGenerator', 'TumourSegmentor', 'FrozenSegmentor', 'PretrainedSegmentor']
