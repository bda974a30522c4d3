"""Post-processing shared by the rotated dense heads."""
from mmdet.structures.bbox import BaseBoxes

from visiondiv.structures.bbox import RotatedBoxes


class RotatedPostProcessMixin:
    """Wrap decoded (n, 5) tensors as ``RotatedBoxes`` so mmdet's rescale and NMS treat them as rotated.

    mmrotate configs decode with ``use_box_type=False``; mmdet's generic
    post-processing would then take the 5 columns for a horizontal box.
    """

    def _bbox_post_process(self, results, cfg, rescale=False, with_nms=True, img_meta=None):
        if not isinstance(results.bboxes, BaseBoxes) and results.bboxes.size(-1) == 5:
            results.bboxes = RotatedBoxes(results.bboxes, clone=False)
        return super()._bbox_post_process(results, cfg, rescale=rescale, with_nms=with_nms, img_meta=img_meta)
