"""Rotated RetinaNet head on mmdet's RetinaHead (same module names as mmrotate's)."""
from typing import Optional

from mmdet.models.dense_heads import RetinaHead
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import MODELS
from ..losses import KFIoULoss
from .rotated_mixin import RotatedPostProcessMixin


@MODELS.register_module()
class RotatedRetinaHead(RotatedPostProcessMixin, RetinaHead):
    """RetinaNet head that regresses rotated boxes.

    mmdet's anchor head is box-type generic; what is rotated-specific is
    the loss input. With ``loss_bbox_type='kfiou'`` (picked automatically
    for ``KFIoULoss``) the loss gets the encoded deltas and both decoded
    boxes; with ``reg_decoded_bbox=True`` (KLD/GWD) it gets decoded boxes.

    Args:
        loss_bbox_type (str, optional): ``normal`` or ``kfiou``; inferred from ``loss_bbox`` if None.
    """

    def __init__(self, *args, loss_bbox_type: Optional[str] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if loss_bbox_type is None:
            loss_bbox_type = 'kfiou' if isinstance(self.loss_bbox, KFIoULoss) else 'normal'
        if loss_bbox_type not in ('normal', 'kfiou'):
            raise ValueError(f"loss_bbox_type must be 'normal' or 'kfiou', got {loss_bbox_type!r}")
        if loss_bbox_type == 'kfiou' and self.reg_decoded_bbox:
            raise ValueError('KFIoU needs encoded deltas: set reg_decoded_bbox=False for loss_bbox_type=kfiou')
        self.loss_bbox_type = loss_bbox_type

    def loss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor, anchors: Tensor, labels: Tensor,
                            label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
                            avg_factor: int) -> tuple:
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor)

        bbox_targets = bbox_targets.reshape(-1, bbox_targets.size(-1))
        bbox_weights = bbox_weights.reshape(-1, bbox_weights.size(-1))
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, self.bbox_coder.encode_size)
        anchors = get_box_tensor(anchors)
        anchors = anchors.reshape(-1, anchors.size(-1))
        # Only anchors with a regression weight contribute (avg_factor fixes the normaliser),
        # so decoding and scoring the others would be wasted work.
        keep = bbox_weights.sum(-1) > 0
        bbox_pred, bbox_targets = bbox_pred[keep], bbox_targets[keep]
        bbox_weights, anchors = bbox_weights[keep], anchors[keep]
        if self.loss_bbox_type == 'kfiou':
            loss_bbox = self.loss_bbox(
                bbox_pred, bbox_targets, bbox_weights,
                pred_decode=get_box_tensor(self.bbox_coder.decode(anchors, bbox_pred)),
                targets_decode=get_box_tensor(self.bbox_coder.decode(anchors, bbox_targets)),
                avg_factor=avg_factor)
        else:
            if self.reg_decoded_bbox:
                bbox_pred = get_box_tensor(self.bbox_coder.decode(anchors, bbox_pred))
            loss_bbox = self.loss_bbox(bbox_pred, bbox_targets, bbox_weights, avg_factor=avg_factor)
        return loss_cls, loss_bbox
