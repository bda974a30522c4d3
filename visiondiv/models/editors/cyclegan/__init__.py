from .cyclegan import CycleGAN
from .cyclegan_generator import ResnetGenerator
from .cyclegan_modules import ImagePool

__all__ = ['CycleGAN', 'ImagePool', 'ResnetGenerator']
