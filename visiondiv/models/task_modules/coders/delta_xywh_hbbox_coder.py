"""mmdet's delta coder whose targets may be rotated boxes (mmrotate's ``DeltaXYWHHBBoxCoder``)."""
from typing import Union

from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, rbox2hbox


@TASK_UTILS.register_module()
class DeltaXYWHHBBoxCoder(DeltaXYWHBBoxCoder):
    """mmdet's ``DeltaXYWHBBoxCoder`` encoding against the horizontal envelopes of rotated targets.

    The RPN coder of Rotated Faster R-CNN: the targets are the ground-truth
    rboxes (n, 5), encoded as the deltas to their axis-aligned bounding boxes;
    decoding is mmdet's (horizontal boxes). Arguments as mmdet's coder
    (``target_means``, ``target_stds``, ``clip_border``, ``add_ctr_clamp``,
    ``ctr_clamp``, ``use_box_type``).
    """

    def encode(self, bboxes: Union[HorizontalBoxes, Tensor], gt_bboxes: Union[RotatedBoxes, Tensor]) -> Tensor:
        """Deltas (n, 4) from horizontal ``bboxes`` (n, 4) to the envelopes of rotated ``gt_bboxes`` (n, 5)."""
        boxes, gts = get_box_tensor(bboxes), get_box_tensor(gt_bboxes)
        if boxes.size(-1) != 4 or gts.size(-1) != 5 or boxes.size(0) != gts.size(0):
            raise ValueError(f'encode needs (n, 4) boxes and (n, 5) rotated targets, got {tuple(boxes.shape)} '
                             f'and {tuple(gts.shape)}')
        return super().encode(boxes, rbox2hbox(gts))
