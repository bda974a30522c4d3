"""IoU calculators for assigners on rotated boxes (mmrotate's ``RBboxOverlaps2D``, ``FakeRBboxOverlaps2D``,
``RBbox2HBboxOverlaps2D``)."""
from typing import Optional, Tuple, Union

from mmdet.structures.bbox import BaseBoxes, bbox_overlaps, get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import rbbox_overlaps, rbox2hbox
from visiondiv.structures.bbox.bbox_overlaps import fake_rbbox_overlaps, rbbox_overlaps_for_assignment

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
    """IoU/IoF between rotated boxes (n, 5|6) and (m, 5|6), on mmcv's ``box_iou_rotated``.

    Args:
        skip_below (float, optional): for a max-IoU assigner whose ``neg_iou_thr`` and
            ``pos_iou_thr`` are >= this value: the (n, m) IoU matrix gets the exact IoU only where
            it can change the assignment and 0 elsewhere
            (:func:`~visiondiv.structures.bbox.bbox_overlaps.rbbox_overlaps_for_assignment`),
            which spares most of the rotated-IoU work of a training step. None (mmrotate's
            behaviour): every entry exact. :func:`check_assigner_skip_below` refuses an assigner
            whose thresholds are below it. A value must be in (0, 1]. Defaults to None.

    Raises:
        ValueError: If ``skip_below`` is neither None nor in (0, 1].
    """

    def __init__(self, skip_below: Optional[float] = None) -> None:
        if skip_below is not None and not 0 < skip_below <= 1:
            raise ValueError(f'RBboxOverlaps2D: skip_below must be in (0, 1] or None, got {skip_below!r}')
        self.skip_below = skip_below

    def __call__(self, bboxes1: BoxesLike, bboxes2: BoxesLike, mode: str = 'iou',
                 is_aligned: bool = False) -> Tensor:
        """(n, m) overlaps, or (n,) with ``is_aligned``; ``mode`` is 'iou' or 'iof'."""
        b1, b2 = _rbox_tensors(bboxes1, bboxes2)
        if self.skip_below is not None and mode == 'iou' and not is_aligned:
            return rbbox_overlaps_for_assignment(b1, b2, self.skip_below)
        return rbbox_overlaps(b1, b2, mode, is_aligned)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(skip_below={self.skip_below})'


def check_assigner_skip_below(assigner) -> None:
    """Refuse an assigner whose IoU calculator skips pairs its thresholds still need.

    ``RBboxOverlaps2D(skip_below=t)`` is exact for the assignment only when the assigner calls
    every IoU under ``t`` negative, i.e. ``neg_iou_thr`` (each, if a range) and ``pos_iou_thr`` >= t.

    Args:
        assigner (object): A built assigner (e.g. mmdet's ``MaxIoUAssigner``). Nothing is checked when its
            ``iou_calculator`` has no ``skip_below`` or it is None.

    Raises:
        ValueError: If the calculator skips and the assigner has no ``neg_iou_thr``/``pos_iou_thr`` (not a
            max-IoU assigner), or one of them is below ``skip_below``.
    """
    skip = getattr(getattr(assigner, 'iou_calculator', None), 'skip_below', None)
    if skip is None:
        return
    neg = getattr(assigner, 'neg_iou_thr', None)
    pos = getattr(assigner, 'pos_iou_thr', None)
    if neg is None or pos is None:
        raise ValueError(f'RBboxOverlaps2D(skip_below={skip}) needs a max-IoU assigner (neg_iou_thr, '
                         f'pos_iou_thr), got {type(assigner).__name__}')
    negs = neg if isinstance(neg, (tuple, list)) else (neg,)
    if min(list(negs) + [pos]) < skip:
        raise ValueError(f'RBboxOverlaps2D(skip_below={skip}) would change the assignment of '
                         f'{type(assigner).__name__}(neg_iou_thr={neg}, pos_iou_thr={pos}): '
                         'set skip_below <= both thresholds, or None')


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


@TASK_UTILS.register_module()
class RBbox2HBboxOverlaps2D:
    """IoU/IoF between the horizontal envelopes of rotated boxes (n, 5|6) and horizontal boxes (m, 4|5).

    mmrotate's calculator of the RPNs that assign horizontal anchors to rotated ground truth (Oriented R-CNN,
    Rotated Faster R-CNN): ``bboxes1`` (the ground truth, as mmdet's ``MaxIoUAssigner`` passes it) become their
    axis-aligned bounding boxes, then mmdet's ``bbox_overlaps``.

    Args:
        scale (float): With ``dtype='fp16'``, boxes are divided by it before the cast. Defaults to 1.
        dtype (str, optional): ``'fp16'`` computes in half precision (returned in fp32 on CPU), as mmdet's
            ``BboxOverlaps2D``; None in the boxes' dtype. Defaults to None.

    Raises:
        ValueError: A ``dtype`` other than None or ``'fp16'``.
    """

    def __init__(self, scale: float = 1., dtype: Optional[str] = None) -> None:
        if dtype not in (None, 'fp16'):
            raise ValueError(f"RBbox2HBboxOverlaps2D: dtype must be None or 'fp16', got {dtype!r}")
        self.scale, self.dtype = scale, dtype

    def __call__(self, bboxes1: BoxesLike, bboxes2: BoxesLike, mode: str = 'iou',
                 is_aligned: bool = False) -> Tensor:
        """(n, m) overlaps, or (n,) with ``is_aligned``; ``mode`` is 'iou' or 'iof'."""
        b1, b2 = get_box_tensor(bboxes1), get_box_tensor(bboxes2)
        if b1.size(-1) not in (0, 5, 6):
            raise ValueError(f'bboxes1 must be rotated boxes with 5 (or 6 with score) columns, got {b1.size(-1)}')
        if b2.size(-1) not in (0, 4, 5):
            raise ValueError(f'bboxes2 must be horizontal boxes with 4 (or 5 with score) columns, got {b2.size(-1)}')
        b1 = rbox2hbox(b1[..., :5]) if b1.size(-1) else b1.new_zeros(*b1.shape[:-1], 4)
        b2 = b2[..., :4] if b2.size(-1) else b2.new_zeros(*b2.shape[:-1], 4)
        if self.dtype == 'fp16':
            b1, b2 = (b1 / self.scale).half(), (b2 / self.scale).half()
            overlaps = bbox_overlaps(b1, b2, mode, is_aligned)
            return overlaps.float() if not overlaps.is_cuda else overlaps
        return bbox_overlaps(b1, b2, mode, is_aligned)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale}, dtype={self.dtype})'
