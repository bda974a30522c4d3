from .pretrained_segmentor import FrozenSegmentor, PretrainedSegmentor, TumourSegmentor
from .sfda_encoder_decoder import SFDAEncoderDecoder

__all__ = ['SFDAEncoderDecoder', 'PretrainedSegmentor', 'FrozenSegmentor', 'TumourSegmentor']
