"""Rotated IoU on mmcv's compiled ``box_iou_rotated``, and IoU of the rotated boxes' envelopes."""
import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .transforms import hbox2rbox, rbox2hbox

#: below this many pairs the dense op is cheaper than finding candidate pairs first
_SPARSE_MIN_PAIRS = 4096
#: box sides are raised to this before an overlap (mmrotate: zero-size boxes give NaN otherwise)
MIN_IOU_SIDE = 1e-3
#: box centres are clamped to +-this before an overlap (mmrotate: mmcv's polygon code
#: returns IoUs far outside [0, 1] for centres around 1e8)
MAX_IOU_CENTRE = 1e7


def clamp_for_overlaps(boxes: Tensor) -> Tensor:
    """Rotated boxes (n, 5) as mmrotate feeds them to an overlap: sides >= 1e-3, centres in +-1e7.

    Args:
        boxes (Tensor): Rotated boxes (n, 5+): cx, cy, w, h, t; columns after the fifth are dropped.

    Returns:
        Tensor: (n, 5) boxes, centres clamped to [-1e7, 1e7], w and h raised to at least 1e-3, t unchanged.
    """
    return torch.cat([boxes[:, :2].clamp(-MAX_IOU_CENTRE, MAX_IOU_CENTRE),
                      boxes[:, 2:4].clamp(min=MIN_IOU_SIDE), boxes[:, 4:5]], dim=1)


def _check_mode(mode: str, rows: int, cols: int, is_aligned: bool) -> None:
    if mode not in ('iou', 'iof'):
        raise ValueError(f"mode must be 'iou' or 'iof', got {mode!r}")
    if is_aligned and rows != cols:
        raise ValueError(f'aligned overlaps need equal counts, got {rows} and {cols}')


def _fp32_boxes(bboxes1: Tensor, bboxes2: Tensor, mode: str, is_aligned: bool):
    """Both inputs as fp32 (n, 5) boxes (score columns dropped), checked; plus the result when there is no
    pair (zeros in ``bboxes1``'s dtype), else None."""
    b1, b2 = bboxes1[..., :5].float(), bboxes2[..., :5].float()
    rows, cols = b1.shape[0], b2.shape[0]
    _check_mode(mode, rows, cols, is_aligned)
    empty = b1.new_zeros((rows,) if is_aligned else (rows, cols)).to(bboxes1.dtype) if rows * cols == 0 else None
    return b1, b2, empty


def _exact_on_pairs(out: Tensor, b1: Tensor, b2: Tensor, pairs: Tensor, mode: str = 'iou') -> None:
    """Write mmcv's exact overlap of the (row, column) pairs set in the bool matrix ``pairs`` into ``out``."""
    from mmcv.ops import box_iou_rotated
    i, j = pairs.nonzero(as_tuple=True)
    if len(i):
        out[i, j] = box_iou_rotated(b1[i], b2[j], mode=mode, aligned=True)


def rbbox_overlaps(bboxes1: Tensor, bboxes2: Tensor, mode: str = 'iou',
                   is_aligned: bool = False) -> Tensor:
    """IoU or IoF of rotated boxes (n, 5) x (m, 5); extra score columns are dropped.

    Computed in fp32 (the op has no fp16 kernel) and returned in ``bboxes1``'s dtype.
    As in mmrotate, boxes go through :func:`clamp_for_overlaps` first: sides
    below 1e-3 are raised (zero-size boxes give IoU 0, not NaN) and centres
    are clamped to +-1e7 (beyond, mmcv's op returns values far outside [0, 1]).

    For large n x m (anchors against ground truth), the exact polygon
    intersection runs only on pairs whose horizontal envelopes overlap:
    any other pair has IoU exactly 0, and in a detector that is nearly all
    of them.

    Args:
        bboxes1 (Tensor): Rotated boxes (n, 5) (cx, cy, w, h, t), t in radians; more columns (a score)
            are dropped.
        bboxes2 (Tensor): Rotated boxes (m, 5), as ``bboxes1``.
        mode (str): ``'iou'`` (intersection over union) or ``'iof'`` (intersection over the area of
            each box of ``bboxes1``). Defaults to 'iou'.
        is_aligned (bool): overlaps of the pairs (bboxes1[i], bboxes2[i]) instead of every pair; needs
            n == m. Defaults to False.

    Returns:
        Tensor: (n, m) overlaps, or (n,) with ``is_aligned``, in ``bboxes1``'s dtype.

    Raises:
        ValueError: ``mode`` other than 'iou' / 'iof', or ``is_aligned`` with n != m.
    """
    from mmcv.ops import box_iou_rotated
    b1, b2, empty = _fp32_boxes(bboxes1, bboxes2, mode, is_aligned)
    if empty is not None:
        return empty
    b1, b2 = clamp_for_overlaps(b1), clamp_for_overlaps(b2)
    if is_aligned or b1.shape[0] * b2.shape[0] < _SPARSE_MIN_PAIRS:
        return box_iou_rotated(b1, b2, mode=mode, aligned=is_aligned).to(bboxes1.dtype)
    h1, h2 = rbox2hbox(b1), rbox2hbox(b2)
    touch = (h1[:, None, 0] < h2[None, :, 2]) & (h2[None, :, 0] < h1[:, None, 2]) & \
            (h1[:, None, 1] < h2[None, :, 3]) & (h2[None, :, 1] < h1[:, None, 3])
    out = b1.new_zeros(b1.shape[0], b2.shape[0])
    _exact_on_pairs(out, b1, b2, touch, mode)
    return out.to(bboxes1.dtype)


def fake_rbbox_overlaps(bboxes1: Tensor, bboxes2: Tensor, mode: str = 'iou',
                        is_aligned: bool = False) -> Tensor:
    """IoU or IoF of the horizontal envelopes of rotated boxes (n, 5) x (m, 5) (mmrotate's name).

    Each box is replaced by its axis-aligned bounding box (:func:`rbox2hbox`),
    clamped as in :func:`rbbox_overlaps` (mmrotate clamps the envelope, in
    (cx, cy, w, h) form), and the overlap is mmdet's ``bbox_overlaps``.
    Computed in fp32 and returned in ``bboxes1``'s dtype; extra score
    columns are dropped.

    Args:
        bboxes1 (Tensor): Rotated boxes (n, 5) (cx, cy, w, h, t), t in radians; more columns (a score)
            are dropped.
        bboxes2 (Tensor): Rotated boxes (m, 5), as ``bboxes1``.
        mode (str): ``'iou'`` (intersection over union) or ``'iof'`` (intersection over the area of
            each box of ``bboxes1``). Defaults to 'iou'.
        is_aligned (bool): overlaps of the pairs (bboxes1[i], bboxes2[i]) instead of every pair; needs
            n == m. Defaults to False.

    Returns:
        Tensor: (n, m) overlaps, or (n,) with ``is_aligned``, in ``bboxes1``'s dtype.

    Raises:
        ValueError: ``mode`` other than 'iou' / 'iof', or ``is_aligned`` with n != m.
    """
    b1, b2, empty = _fp32_boxes(bboxes1, bboxes2, mode, is_aligned)
    if empty is not None:
        return empty
    h1 = rbox2hbox(clamp_for_overlaps(hbox2rbox(rbox2hbox(b1))))
    h2 = rbox2hbox(clamp_for_overlaps(hbox2rbox(rbox2hbox(b2))))
    return bbox_overlaps(h1, h2, mode, is_aligned).to(bboxes1.dtype)


def rbbox_overlaps_for_assignment(bboxes1: Tensor, bboxes2: Tensor, skip_below: float) -> Tensor:
    """Rotated IoU (n, m) with the exact op run only where it can change a max-IoU assignment.

    An upper bound of each pair's IoU comes from its horizontal envelopes:
    the intersection is at most ``min(envelope intersection, area1, area2)``,
    and IoU grows with the intersection. The exact IoU is computed for pairs
    whose bound reaches ``skip_below`` and, for each row (a ground truth),
    for pairs whose bound reaches that row's best exact IoU; every other
    entry is 0. Such a pair's IoU is below ``skip_below`` and below its row's
    best, so an assigner that calls anything under ``skip_below`` negative
    (mmdet's ``MaxIoUAssigner`` with ``neg_iou_thr`` and ``pos_iou_thr`` >=
    ``skip_below``) assigns exactly as with the full matrix; only the
    stored ``max_overlaps`` of negatives differ. A small slack on both tests
    absorbs fp32 rounding between the bound and mmcv's polygon IoU.

    Args:
        bboxes1 (Tensor): Rotated boxes (n, 5) (cx, cy, w, h, t), the ground truths (rows); more
            columns are dropped.
        bboxes2 (Tensor): Rotated boxes (m, 5), the priors or proposals (columns).
        skip_below (float): IoU under which a pair may be left at 0 (the assigner's lowest threshold).

    Returns:
        Tensor: (n, m) IoU in ``bboxes1``'s dtype, exact where it can matter, 0 elsewhere.
    """
    b1, b2, empty = _fp32_boxes(bboxes1, bboxes2, 'iou', False)
    if empty is not None:
        return empty
    b1, b2 = clamp_for_overlaps(b1), clamp_for_overlaps(b2)
    out = b1.new_zeros(b1.shape[0], b2.shape[0])
    h1, h2 = rbox2hbox(b1), rbox2hbox(b2)
    iw = (torch.minimum(h1[:, None, 2], h2[None, :, 2]) - torch.maximum(h1[:, None, 0], h2[None, :, 0])).clamp(min=0)
    ih = (torch.minimum(h1[:, None, 3], h2[None, :, 3]) - torch.maximum(h1[:, None, 1], h2[None, :, 1])).clamp(min=0)
    area1, area2 = b1[:, 2] * b1[:, 3], b2[:, 2] * b2[:, 3]
    inter = torch.minimum(iw * ih, torch.minimum(area1[:, None], area2[None, :]))
    bound = inter / (area1[:, None] + area2[None, :] - inter)
    slack = 1e-4
    done = bound >= skip_below - slack
    _exact_on_pairs(out, b1, b2, done)
    best = out.max(dim=1, keepdim=True).values
    _exact_on_pairs(out, b1, b2, ~done & (bound > 0) & (bound >= best - slack))
    return out.to(bboxes1.dtype)
