"""Rotated IoU calculator for assigners (mmrotate's ``RBboxOverlaps2D``)."""
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import rbbox_overlaps


@TASK_UTILS.register_module()
class RBboxOverlaps2D:
    """IoU/IoF between rotated boxes (n, 5|6) and (m, 5|6), on mmcv's ``box_iou_rotated``."""

    def __call__(self, bboxes1, bboxes2, mode: str = 'iou', is_aligned: bool = False) -> Tensor:
        b1, b2 = get_box_tensor(bboxes1), get_box_tensor(bboxes2)
        for name, b in (('bboxes1', b1), ('bboxes2', b2)):
            if b.size(-1) not in (0, 5, 6):
                raise ValueError(f'{name} must have 5 (or 6 with score) columns, got {b.size(-1)}')
        return rbbox_overlaps(b1, b2, mode, is_aligned)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
