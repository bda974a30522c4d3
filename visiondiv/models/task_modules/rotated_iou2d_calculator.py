"""IoU calculators for assigners on rotated boxes (mmrotate's ``RBboxOverlaps2D``, ``FakeRBboxOverlaps2D``)."""
from typing import Tuple, Union

from mmdet.structures.bbox import BaseBoxes, get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import rbbox_overlaps
from visiondiv.structures.bbox.bbox_overlaps import fake_rbbox_overlaps

BoxesLike = Union[Tensor, BaseBoxes]


def _rbox_tensors(bboxes1: BoxesLike, bboxes2: BoxesLike) -> Tuple[Tensor, Tensor]:
    """Box tensors of either input, checked to have 5 (or 6 with score) columns."""
    b1, b2 = get_box_tensor(bboxes1), get_box_tensor(bboxes2)
    for name, b in (('bboxes1', b1), ('bboxes2', b2)):
        if b.size(-1) not in (0, 5, 6):
            raise ValueError(f'{name} must have 5 (or 6 with score) columns, got {b.size(-1)}')
    return b1, b2


@TASK_UTILS.register_module()
class RBboxOverlaps2D:
    """IoU/IoF between rotated boxes (n, 5|6) and (m, 5|6), on mmcv's ``box_iou_rotated``."""

    def __call__(self, bboxes1: BoxesLike, bboxes2: BoxesLike, mode: str = 'iou',
                 is_aligned: bool = False) -> Tensor:
        """(n, m) overlaps, or (n,) with ``is_aligned``; ``mode`` is 'iou' or 'iof'."""
        return rbbox_overlaps(*_rbox_tensors(bboxes1, bboxes2), mode, is_aligned)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@TASK_UTILS.register_module()
class FakeRBboxOverlaps2D:
    """IoU/IoF between the horizontal envelopes of rotated boxes (n, 5|6) and (m, 5|6).

    mmrotate's calculator for the "hbox" detectors: anchors are assigned to
    ground truth by the IoU of their axis-aligned bounding boxes, not by the
    rotated IoU (:func:`~visiondiv.structures.bbox.bbox_overlaps.fake_rbbox_overlaps`).
    """

    def __call__(self, bboxes1: BoxesLike, bboxes2: BoxesLike, mode: str = 'iou',
                 is_aligned: bool = False) -> Tensor:
        """(n, m) overlaps, or (n,) with ``is_aligned``; ``mode`` is 'iou' or 'iof'."""
        return fake_rbbox_overlaps(*_rbox_tensors(bboxes1, bboxes2), mode, is_aligned)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
