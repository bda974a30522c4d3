from .rotate_single_level_roi_extractor import ROTATED_ROI_LAYERS, RotatedSingleRoIExtractor

__all__ = ['RotatedSingleRoIExtractor', 'ROTATED_ROI_LAYERS']
