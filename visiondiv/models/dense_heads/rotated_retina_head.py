"""Rotated RetinaNet head on mmdet's RetinaHead (same module names as mmrotate's)."""
from typing import Optional, Tuple

import torch
from mmdet.models.dense_heads import RetinaHead
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from visiondiv.registry import MODELS
from ..losses.utils import resolve_loss_bbox_type
from ..task_modules.assigners import check_assigner_skip_below
from ..utils import FP32LossMixin


@MODELS.register_module()
class RotatedRetinaHead(FP32LossMixin, RetinaHead):
    """RetinaNet head that regresses rotated boxes.

    mmdet's anchor head is box-type generic (the coder decodes to
    ``RotatedBoxes``); what is rotated-specific is the loss input, which the
    loss declares (:func:`~visiondiv.models.losses.utils.box_loss_input`):
    ``GDLoss`` gets decoded boxes, ``KFLoss`` the encoded deltas plus both
    decoded boxes, and a loss that declares nothing (mmdet's) follows
    ``reg_decoded_bbox``.

    Args:
        *args: Positional arguments of mmdet's ``RetinaHead`` (``num_classes``, ``in_channels``, ...).
        loss_bbox_type (str, optional): mmrotate's ``normal`` or ``kfiou``; derived from
            ``loss_bbox`` when None, and a value that contradicts the loss is a ValueError.
            Defaults to None.
        reg_decoded_bbox (bool, optional): mmdet's flag; derived from ``loss_bbox`` when None
            (False for a loss that declares nothing), and a contradiction is a ValueError.
            Defaults to None.
        **kwargs: Keyword arguments of mmdet's ``RetinaHead`` (``num_classes``, ``in_channels``,
            ``stacked_convs``, ``anchor_generator``, ``bbox_coder``, ``loss_cls``, ``loss_bbox``,
            ``train_cfg``, ``test_cfg``, ``init_cfg``...). With a ``train_cfg``, the assigner is checked by
            :func:`~visiondiv.models.task_modules.assigners.check_assigner_skip_below`.

    Raises:
        ValueError: If ``loss_bbox_type`` is neither ``'normal'`` nor ``'kfiou'`` or contradicts
            ``loss_bbox``, ``reg_decoded_bbox`` contradicts it, or the assigner's IoU calculator skips
            pairs its thresholds need.
    """

    def __init__(self, *args, loss_bbox_type: Optional[str] = None, reg_decoded_bbox: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(*args, reg_decoded_bbox=bool(reg_decoded_bbox), **kwargs)
        self.loss_box_input, self.loss_bbox_type = resolve_loss_bbox_type(self.loss_bbox, loss_bbox_type,
                                                                          reg_decoded_bbox)
        # mmdet's target assignment encodes the targets unless reg_decoded_bbox
        self.reg_decoded_bbox = self.loss_box_input == 'decoded'
        if self.train_cfg:
            check_assigner_skip_below(self.assigner)

    def loss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor, anchors: Tensor, labels: Tensor,
                            label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
                            avg_factor: int) -> Tuple[Tensor, Tensor]:
        """Classification and box loss of one level; the box loss sees the input its loss declares."""
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
        if self.loss_box_input == 'encoded':
            # a zero-width/height ground truth encodes to log(0) = -inf: like the Gaussian losses (which drop
            # degenerate targets), it gets no box loss rather than an inf one
            keep &= torch.isfinite(bbox_targets).all(-1)
        bbox_pred, bbox_targets = bbox_pred[keep], bbox_targets[keep]
        bbox_weights, anchors = bbox_weights[keep], anchors[keep]
        if self.loss_box_input == 'both':
            loss_bbox = self.loss_bbox(
                bbox_pred, bbox_targets, bbox_weights,
                pred_decode=get_box_tensor(self.bbox_coder.decode(anchors, bbox_pred)),
                targets_decode=get_box_tensor(self.bbox_coder.decode(anchors, bbox_targets)),
                avg_factor=avg_factor)
        else:
            if self.loss_box_input == 'decoded':
                bbox_pred = get_box_tensor(self.bbox_coder.decode(anchors, bbox_pred))
            loss_bbox = self.loss_bbox(bbox_pred, bbox_targets, bbox_weights, avg_factor=avg_factor)
        return loss_cls, loss_bbox
