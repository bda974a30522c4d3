from .sfda_encoder_decoder import SFDAEncoderDecoder

__all__ = ['SFDAEncoderDecoder']
