"""Rotated FCOS head on mmdet's FCOSHead (module names and arguments as mmrotate's)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import Scale
from mmdet.models.dense_heads import FCOSHead
from mmdet.models.utils import multi_apply
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptInstanceList, reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor

from visiondiv.registry import MODELS, TASK_UTILS
from visiondiv.structures.bbox import check_angle_version, regularize_rboxes
from ..losses.utils import declared_box_input
from ..task_modules.coders import rbox_point_distances
from ..utils import FP32LossMixin
from ._angle_branch import check_hbbox_loss_has_angle_loss, merge_decoded_angle

INF = 1e8


@MODELS.register_module()
class RotatedFCOSHead(FP32LossMixin, FCOSHead):
    """Anchor-free FCOS head with an angle branch.

    Each location inside a rotated ground truth regresses its distances to
    the four edges in the box's own frame, plus the box angle. The box loss
    gets the input it declares (:func:`~visiondiv.models.losses.utils.declared_box_input`):
    decoded rotated boxes (``RotatedIoULoss``, ``GDLoss``: KLD, GWD...; and, as in mmdet's
    FCOS, a loss that declares nothing), the encoded (l, t, r, b, angle) plus both decoded
    boxes (``KFLoss``), or the encoded values alone (``'encoded'``).

    With ``use_hbbox_loss=True`` (mmrotate's "separate angle" variant) the box loss is a
    horizontal one (e.g. ``mmdet.IoULoss``) on the (l, t, r, b) distances decoded by
    ``h_bbox_coder`` into axis-aligned boxes about each point, and the angle is learnt by
    ``loss_angle`` alone; predictions are rotated boxes either way.

    Args:
        num_classes (int): Number of object classes (excluding the background).
        in_channels (int): Channels of the input feature maps.
        angle_version (str): Angle definition of the targets and of the decoded boxes, ``'oc'``, ``'le90'``
            or ``'le135'``; also the default ``angle_version`` of ``bbox_coder``. Defaults to ``'le90'``.
        use_hbbox_loss (bool): Horizontal box loss plus a separate angle loss (needs ``loss_angle``, and a
            ``loss_bbox`` that declares no rotated ``box_input``). Defaults to False.
        scale_angle (bool): Learnable scale on the angle output. Defaults to True.
        angle_coder (dict): ``PseudoAngleCoder`` (direct regression) or ``CSLCoder`` (angle bins, learnt by
            ``loss_angle``, e.g. ``SmoothFocalLoss``, on the encoded targets; the box loss sees the arg-max bin's
            angle, which passes no gradient); its ``encode_size`` is the angle branch's channels. Defaults to
            ``dict(type='PseudoAngleCoder')``.
        h_bbox_coder (dict): Decodes (l, t, r, b) to horizontal boxes; used (and built) only with
            ``use_hbbox_loss``. Defaults to ``dict(type='mmdet.DistancePointBBoxCoder')``.
        bbox_coder (dict): ``DistanceAnglePointCoder``; its ``angle_version`` defaults to the head's.
            Defaults to ``dict(type='DistanceAnglePointCoder')``.
        loss_cls (dict): Classification loss (``mmdet.FocalLoss``). Defaults to
            ``dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)``.
        loss_bbox (dict): The box loss (``RotatedIoULoss`` by default, as in mmrotate), weighted by the
            centerness targets. Defaults to ``dict(type='RotatedIoULoss', loss_weight=1.0)``.
        loss_centerness (dict): Centerness loss (``mmdet.CrossEntropyLoss``). Defaults to
            ``dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)``.
        loss_angle (dict, optional): Loss on the encoded angle alone (e.g. ``mmdet.L1Loss``); None for none.
            Defaults to None.
        **kwargs: Other arguments of mmdet's ``FCOSHead`` (``strides``, ``regress_ranges``,
            ``center_sampling``, ``center_sample_radius``, ``norm_on_bbox``, ``centerness_on_reg``,
            ``train_cfg``, ``test_cfg``, ``init_cfg``...).

    Raises:
        ValueError: If ``use_hbbox_loss`` is True and ``loss_angle`` is None, or ``loss_bbox`` declares a
            rotated box input; or if ``angle_coder`` encodes to more than one value and ``loss_angle`` is None
            (nothing would train the angle branch).
    """

    def __init__(self, num_classes: int, in_channels: int, angle_version: str = 'le90',
                 use_hbbox_loss: bool = False, scale_angle: bool = True,
                 angle_coder: ConfigType = dict(type='PseudoAngleCoder'),
                 h_bbox_coder: ConfigType = dict(type='mmdet.DistancePointBBoxCoder'),
                 bbox_coder: ConfigType = dict(type='DistanceAnglePointCoder'),
                 loss_cls: ConfigType = dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                                             loss_weight=1.0),
                 loss_bbox: ConfigType = dict(type='RotatedIoULoss', loss_weight=1.0),
                 loss_centerness: ConfigType = dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True,
                                                    loss_weight=1.0),
                 loss_angle: OptConfigType = None, **kwargs) -> None:
        check_angle_version(angle_version, 'RotatedFCOSHead')
        check_hbbox_loss_has_angle_loss('RotatedFCOSHead', use_hbbox_loss, loss_angle)
        self.angle_version = angle_version
        self.use_hbbox_loss = use_hbbox_loss
        self.is_scale_angle = scale_angle
        self.angle_coder = TASK_UTILS.build(angle_coder)
        if self.angle_coder.encode_size != 1 and loss_angle is None:
            raise ValueError(f'RotatedFCOSHead: angle_coder {type(self.angle_coder).__name__} encodes the angle in '
                             f'{self.angle_coder.encode_size} bins and is learnt by loss_angle alone; set loss_angle, '
                             "e.g. dict(type='SmoothFocalLoss', gamma=2.0, alpha=0.25, loss_weight=0.2)")
        bbox_coder = dict(bbox_coder)
        bbox_coder.setdefault('angle_version', angle_version)
        super().__init__(num_classes, in_channels, bbox_coder=bbox_coder, loss_cls=loss_cls, loss_bbox=loss_bbox,
                         loss_centerness=loss_centerness, **kwargs)
        declared = declared_box_input(self.loss_bbox)
        if use_hbbox_loss:
            if declared is not None:
                raise ValueError(f'RotatedFCOSHead: use_hbbox_loss=True gives loss_bbox horizontal boxes '
                                 f'(x1, y1, x2, y2), but {type(self.loss_bbox).__name__} takes rotated boxes '
                                 f"(box_input={declared!r}); use a horizontal loss such as mmdet.IoULoss")
            self.h_bbox_coder = TASK_UTILS.build(h_bbox_coder)
        # mmdet's FCOS scores decoded boxes: that is the input of a loss that declares nothing
        self.loss_box_input = declared or 'decoded'
        self.loss_angle = MODELS.build(loss_angle) if loss_angle is not None else None

    def _init_layers(self) -> None:
        super()._init_layers()
        self.conv_angle = nn.Conv2d(self.feat_channels, self.angle_coder.encode_size, 3, padding=1)
        if self.is_scale_angle:
            self.scale_angle = Scale(1.0)

    def forward_single(self, x: Tensor, scale: Scale, stride: int) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        cls_score, bbox_pred, cls_feat, reg_feat = super(FCOSHead, self).forward_single(x)
        centerness = self.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat)
        bbox_pred = scale(bbox_pred).float()
        if self.norm_on_bbox:
            bbox_pred = bbox_pred.clamp(min=0)
            if not self.training:
                bbox_pred = bbox_pred * stride
        else:
            bbox_pred = bbox_pred.exp()
        angle_pred = self.conv_angle(reg_feat)
        if self.is_scale_angle:
            angle_pred = self.scale_angle(angle_pred).float()
        return cls_score, bbox_pred, angle_pred, centerness

    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], angle_preds: List[Tensor],
                     centernesses: List[Tensor], batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> Dict[str, Tensor]:
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype,
                                                  device=bbox_preds[0].device)
        labels, bbox_targets, angle_targets = self.get_targets(points, batch_gt_instances)
        num_imgs = cls_scores[0].size(0)

        def flat(maps, dim):
            return torch.cat([m.permute(0, 2, 3, 1).reshape(-1, dim) for m in maps])

        flat_cls = flat(cls_scores, self.cls_out_channels)
        flat_bbox = flat(bbox_preds, 4)
        flat_angle = flat(angle_preds, self.angle_coder.encode_size)
        flat_ctr = flat(centernesses, 1).reshape(-1)
        flat_labels = torch.cat(labels)
        flat_bbox_targets = torch.cat(bbox_targets)
        flat_angle_targets = torch.cat(angle_targets)
        flat_points = torch.cat([p.repeat(num_imgs, 1) for p in points])

        pos = ((flat_labels >= 0) & (flat_labels < self.num_classes)).nonzero().reshape(-1)
        num_pos = max(reduce_mean(torch.tensor(len(pos), dtype=torch.float, device=flat_cls.device)), 1.0)
        loss_cls = self.loss_cls(flat_cls, flat_labels, avg_factor=num_pos)

        pos_bbox, pos_angle, pos_ctr = flat_bbox[pos], flat_angle[pos], flat_ctr[pos]
        pos_bbox_targets, pos_angle_targets = flat_bbox_targets[pos], flat_angle_targets[pos]
        ctr_targets = self.centerness_target(pos_bbox_targets)
        ctr_denorm = max(reduce_mean(ctr_targets.sum().detach()), 1e-6)
        losses = dict(loss_cls=loss_cls)
        if len(pos) > 0:
            pos_points = flat_points[pos]
            losses['loss_bbox'] = self._box_loss(pos_points, pos_bbox, pos_angle, pos_bbox_targets,
                                                 pos_angle_targets, ctr_targets, ctr_denorm)
            if self.loss_angle is not None:
                losses['loss_angle'] = self.loss_angle(pos_angle, self.angle_coder.encode(pos_angle_targets),
                                                       avg_factor=num_pos)
            losses['loss_centerness'] = self.loss_centerness(pos_ctr, ctr_targets, avg_factor=num_pos)
        else:
            losses['loss_bbox'] = pos_bbox.sum()
            if self.loss_angle is not None:
                losses['loss_angle'] = pos_angle.sum()
            losses['loss_centerness'] = pos_ctr.sum()
        return losses

    def _box_loss(self, points: Tensor, bbox: Tensor, angle: Tensor, bbox_targets: Tensor, angle_targets: Tensor,
                  weight: Tensor, avg_factor: Tensor) -> Tensor:
        """``loss_bbox`` of the positive points, on the box input it takes."""
        if self.use_hbbox_loss:
            # horizontal boxes about each point from the (l, t, r, b) distances; the angle has its own loss
            return self.loss_bbox(get_box_tensor(self.h_bbox_coder.decode(points, bbox)),
                                  get_box_tensor(self.h_bbox_coder.decode(points, bbox_targets)),
                                  weight=weight, avg_factor=avg_factor)
        pred_enc = torch.cat([bbox, self.angle_coder.decode(angle, keepdim=True)], -1)
        target_enc = torch.cat([bbox_targets, angle_targets], -1)
        if self.loss_box_input == 'encoded':
            return self.loss_bbox(pred_enc, target_enc, weight=weight, avg_factor=avg_factor)
        pred_dec = get_box_tensor(self.bbox_coder.decode(points, pred_enc))
        target_dec = get_box_tensor(self.bbox_coder.decode(points, target_enc))
        if self.loss_box_input == 'both':
            return self.loss_bbox(pred_enc, target_enc, weight=weight, avg_factor=avg_factor,
                                  pred_decode=pred_dec, targets_decode=target_dec)
        return self.loss_bbox(pred_dec, target_dec, weight=weight, avg_factor=avg_factor)

    def get_targets(self, points: List[Tensor], batch_gt_instances: InstanceList
                    ) -> Tuple[List[Tensor], List[Tensor], List[Tensor]]:
        """Labels, (l, t, r, b) targets (divided by the stride with ``norm_on_bbox``) and angles per level."""
        num_levels = len(points)
        ranges = torch.cat([points[i].new_tensor(self.regress_ranges[i])[None].expand_as(points[i])
                            for i in range(num_levels)])
        all_points = torch.cat(points)
        per_level = [p.size(0) for p in points]
        labels, bbox_t, angle_t = multi_apply(self._get_targets_single, batch_gt_instances, points=all_points,
                                              regress_ranges=ranges, num_points_per_lvl=per_level)
        labels = [x.split(per_level) for x in labels]
        bbox_t = [x.split(per_level) for x in bbox_t]
        angle_t = [x.split(per_level) for x in angle_t]
        out_labels, out_bbox, out_angle = [], [], []
        for i in range(num_levels):
            out_labels.append(torch.cat([x[i] for x in labels]))
            b = torch.cat([x[i] for x in bbox_t])
            out_bbox.append(b / self.strides[i] if self.norm_on_bbox else b)
            out_angle.append(torch.cat([x[i] for x in angle_t]))
        return out_labels, out_bbox, out_angle

    def _get_targets_single(self, gt_instances: InstanceData, points: Tensor, regress_ranges: Tensor,
                            num_points_per_lvl: List[int]) -> Tuple[Tensor, Tensor, Tensor]:
        num_points, num_gts = points.size(0), len(gt_instances)
        gt_labels = gt_instances.labels
        boxes = get_box_tensor(gt_instances.bboxes)
        if num_gts == 0:
            return (gt_labels.new_full((num_points,), self.num_classes), boxes.new_zeros((num_points, 4)),
                    boxes.new_zeros((num_points, 1)))
        boxes = regularize_rboxes(boxes, self.angle_version)
        areas = (boxes[:, 2] * boxes[:, 3])[None].repeat(num_points, 1)
        dist = rbox_point_distances(points[:, None, :], boxes[None])            # (P, G, 4)
        inside = dist.min(-1).values > 0
        if self.center_sampling:
            stride = torch.cat([points.new_full((n,), s * self.center_sample_radius)
                                for n, s in zip(num_points_per_lvl, self.strides)])
            # offset from the centre in the box frame is (r - l) / 2, (b - t) / 2
            off_u = (dist[..., 2] - dist[..., 0]).abs() / 2
            off_v = (dist[..., 3] - dist[..., 1]).abs() / 2
            inside = inside & (off_u < stride[:, None]) & (off_v < stride[:, None])
        max_dist = dist.max(-1).values
        in_range = (max_dist >= regress_ranges[:, None, 0]) & (max_dist <= regress_ranges[:, None, 1])
        areas[~inside] = INF
        areas[~in_range] = INF
        min_area, idx = areas.min(dim=1)
        labels = gt_labels[idx]
        labels[min_area == INF] = self.num_classes
        arange = torch.arange(num_points, device=points.device)
        return labels, dist[arange, idx], boxes[idx, 4:5]

    def predict_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], angle_preds: List[Tensor],
                        centernesses: List[Tensor], batch_img_metas: Optional[List[dict]] = None,
                        cfg: OptConfigType = None, rescale: bool = False, with_nms: bool = True) -> InstanceList:
        """Merge the angle into the box prediction, then mmdet's generic decoding and rotated NMS."""
        merged = merge_decoded_angle(self.angle_coder, bbox_preds, angle_preds)
        return super().predict_by_feat(cls_scores, merged, score_factors=centernesses,
                                       batch_img_metas=batch_img_metas, cfg=cfg, rescale=rescale,
                                       with_nms=with_nms)
