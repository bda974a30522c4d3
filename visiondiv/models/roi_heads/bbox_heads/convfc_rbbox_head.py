"""Shared-2FC bbox head regressing rotated boxes with any box loss (mmrotate's ``RotatedShared2FCBBoxHead``)."""
from typing import Optional

import torch
from mmdet.models.losses import accuracy
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from visiondiv.registry import MODELS
from ...losses.utils import resolve_loss_bbox_type
from ...utils import FP32LossMixin


@MODELS.register_module()
class RotatedShared2FCBBoxHead(FP32LossMixin, Shared2FCBBoxHead):
    """mmdet's ``Shared2FCBBoxHead`` whose box loss gets the input it declares (KFIoU: deltas and decoded boxes).

    As :class:`~visiondiv.models.dense_heads.RotatedRetinaHead`, the box input comes from the loss
    (:func:`~visiondiv.models.losses.utils.box_loss_input`): ``KFLoss`` gets the deltas of the positive
    RoIs plus their decoded predictions (``pred_decode``) and decoded targets (``targets_decode``),
    ``GDLoss`` decoded boxes, a loss that declares nothing (mmdet's) the deltas unless ``reg_decoded_bbox``.
    Losses run in fp32 with autocast off (``loss`` is wrapped by
    :class:`~visiondiv.models.utils.FP32LossMixin`); prediction decodes and runs NMS in fp32.
    Module names (``shared_fcs.0/1``, ``fc_cls``, ``fc_reg``) are mmrotate's.

    Args:
        *args: Positional arguments of mmdet's ``Shared2FCBBoxHead`` (``fc_out_channels``).
        loss_bbox_type (str, optional): mmrotate's ``'normal'`` or ``'kfiou'``; derived from ``loss_bbox``
            when None, and a value that contradicts the loss is a ValueError. Defaults to None.
        reg_decoded_bbox (bool, optional): mmdet's flag; derived from ``loss_bbox`` when None (False for a
            loss that declares nothing), and a contradiction is a ValueError. Defaults to None.
        **kwargs: Keyword arguments of mmdet's ``Shared2FCBBoxHead`` / ``BBoxHead`` (``in_channels``,
            ``roi_feat_size``, ``num_classes``, ``predict_box_type``, ``bbox_coder``, ``reg_class_agnostic``,
            ``loss_cls``, ``loss_bbox``, ``init_cfg``...).

    Raises:
        ValueError: ``loss_bbox_type`` neither ``'normal'`` nor ``'kfiou'`` or contradicting ``loss_bbox``,
            or ``reg_decoded_bbox`` contradicting it.
    """

    fp32_loss_methods = ('loss', )

    def __init__(self, *args, loss_bbox_type: Optional[str] = None, reg_decoded_bbox: Optional[bool] = None,
                 **kwargs) -> None:
        super().__init__(*args, reg_decoded_bbox=bool(reg_decoded_bbox), **kwargs)
        self.loss_box_input, self.loss_bbox_type = resolve_loss_bbox_type(self.loss_bbox, loss_bbox_type,
                                                                          reg_decoded_bbox)
        # mmdet's targets are encoded unless reg_decoded_bbox
        self.reg_decoded_bbox = self.loss_box_input == 'decoded'

    def _per_roi(self, boxes: Tensor, labels: Tensor, pos: Tensor) -> Tensor:
        """The rows of the positive RoIs, of their own class unless class-agnostic."""
        if self.reg_class_agnostic:
            return boxes.view(boxes.size(0), -1)[pos]
        return boxes.view(boxes.size(0), self.num_classes, -1)[pos, labels[pos]]

    def loss(self, cls_score: Tensor, bbox_pred: Tensor, rois: Tensor, labels: Tensor, label_weights: Tensor,
             bbox_targets: Tensor, bbox_weights: Tensor, reduction_override: Optional[str] = None) -> dict:
        """``loss_cls``, ``acc`` and ``loss_bbox`` of sampled RoIs (k, 6), as mmrotate's head.

        The box loss is averaged over all sampled RoIs (``avg_factor=bbox_targets.size(0)``, mmdet's rule);
        with no positive RoI it is 0 with the graph kept.
        """
        losses = dict()
        if cls_score is not None:
            avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.)
            if cls_score.numel() > 0:
                loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor,
                                         reduction_override=reduction_override)
                if isinstance(loss_cls, dict):
                    losses.update(loss_cls)
                else:
                    losses['loss_cls'] = loss_cls
                if self.custom_activation:
                    losses.update(self.loss_cls.get_accuracy(cls_score, labels))
                else:
                    losses['acc'] = accuracy(cls_score, labels)
        if bbox_pred is not None:
            pos = (labels >= 0) & (labels < self.num_classes)
            if not pos.any():
                losses['loss_bbox'] = bbox_pred[pos].sum()
                return losses
            priors = rois[:, 1:]
            pos_pred = self._per_roi(bbox_pred, labels, pos)
            pos_priors = priors[pos]
            if self.loss_box_input == 'decoded':
                pos_pred = get_box_tensor(self.bbox_coder.decode(pos_priors, pos_pred))
            kwargs = {}
            if self.loss_box_input == 'both':
                kwargs = dict(pred_decode=get_box_tensor(self.bbox_coder.decode(pos_priors, pos_pred)),
                              targets_decode=get_box_tensor(self.bbox_coder.decode(pos_priors, bbox_targets[pos])))
            losses['loss_bbox'] = self.loss_bbox(pos_pred, bbox_targets[pos], bbox_weights[pos],
                                                 avg_factor=bbox_targets.size(0),
                                                 reduction_override=reduction_override, **kwargs)
        return losses

    def _predict_by_feat_single(self, roi: Tensor, cls_score: Tensor, bbox_pred: Tensor, img_meta: dict,
                                rescale: bool = False, rcnn_test_cfg: Optional[ConfigDict] = None) -> InstanceData:
        """mmdet's decoding and NMS of one image, on fp32 inputs (mmcv's rotated NMS takes fp32 boxes)."""
        return super()._predict_by_feat_single(roi.float(), None if cls_score is None else cls_score.float(),
                                               None if bbox_pred is None else bbox_pred.float(), img_meta,
                                               rescale=rescale, rcnn_test_cfg=rcnn_test_cfg)
