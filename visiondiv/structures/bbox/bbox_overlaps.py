"""Rotated IoU on mmcv's compiled ``box_iou_rotated``."""
import torch
from torch import Tensor

from .transforms import rbox2hbox

#: below this many pairs the dense op is cheaper than finding candidate pairs first
_SPARSE_MIN_PAIRS = 4096


def rbbox_overlaps(bboxes1: Tensor, bboxes2: Tensor, mode: str = 'iou',
                   is_aligned: bool = False) -> Tensor:
    """IoU or IoF of rotated boxes (n, 5) x (m, 5); extra score columns are dropped.

    Computed in fp32 (the op has no fp16 kernel) and returned in ``bboxes1``'s dtype.
    Sides below 1e-3 are clamped there, so zero-size boxes give IoU 0, not NaN.

    For large n x m (anchors against ground truth), the exact polygon
    intersection runs only on pairs whose horizontal envelopes overlap:
    any other pair has IoU exactly 0, and in a detector that is nearly all
    of them.
    """
    if mode not in ('iou', 'iof'):
        raise ValueError(f"mode must be 'iou' or 'iof', got {mode!r}")
    from mmcv.ops import box_iou_rotated
    b1 = bboxes1[..., :5].float()
    b2 = bboxes2[..., :5].float()
    rows, cols = b1.shape[0], b2.shape[0]
    if is_aligned and rows != cols:
        raise ValueError(f'aligned overlaps need equal counts, got {rows} and {cols}')
    if rows * cols == 0:
        return b1.new_zeros((rows,) if is_aligned else (rows, cols)).to(bboxes1.dtype)
    b1 = torch.cat([b1[:, :2], b1[:, 2:4].clamp(min=1e-3), b1[:, 4:]], dim=1)
    b2 = torch.cat([b2[:, :2], b2[:, 2:4].clamp(min=1e-3), b2[:, 4:]], dim=1)
    if is_aligned or rows * cols < _SPARSE_MIN_PAIRS:
        return box_iou_rotated(b1, b2, mode=mode, aligned=is_aligned).to(bboxes1.dtype)
    h1, h2 = rbox2hbox(b1), rbox2hbox(b2)
    touch = (h1[:, None, 0] < h2[None, :, 2]) & (h2[None, :, 0] < h1[:, None, 2]) & \
            (h1[:, None, 1] < h2[None, :, 3]) & (h2[None, :, 1] < h1[:, None, 3])
    i, j = touch.nonzero(as_tuple=True)
    out = b1.new_zeros(rows, cols)
    if len(i):
        out[i, j] = box_iou_rotated(b1[i], b2[j], mode=mode, aligned=True)
    return out.to(bboxes1.dtype)
