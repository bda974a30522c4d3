from .inference import (inference_detector, inference_detector_by_patches, init_detector, merge_rotated_by_nms,
                        ndarray_pipeline, patch_windows, read_image_as_pipeline)
from .translation import load_translator, translate_slices

__all__ = ['init_detector', 'inference_detector', 'inference_detector_by_patches', 'merge_rotated_by_nms',
           'ndarray_pipeline', 'patch_windows', 'read_image_as_pipeline', 'load_translator', 'translate_slices']
