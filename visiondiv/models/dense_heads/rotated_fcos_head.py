"""Rotated FCOS head on mmdet's FCOSHead (module names as mmrotate's: ``conv_angle``, ``scale_angle``)."""
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
from visiondiv.structures.bbox import regularize_rboxes
from ..losses.utils import declared_box_input
from ..task_modules.coders.distance_angle_point_coder import rbox_point_distances

INF = 1e8


@MODELS.register_module()
class RotatedFCOSHead(FCOSHead):
    """Anchor-free FCOS head with an angle branch.

    Each location inside a rotated ground truth regresses its distances to
    the four edges in the box's own frame, plus the box angle. The box loss
    gets the input it declares (:func:`~visiondiv.models.losses.utils.declared_box_input`):
    decoded rotated boxes (``GDLoss``: KLD, GWD...; and, as in mmdet's FCOS,
    a loss that declares nothing), the encoded (l, t, r, b, angle) plus both
    decoded boxes (``KFLoss``), or the encoded values alone (``'encoded'``).

    Args:
        angle_version (str): oc, le90 or le135.
        use_hbbox_loss (bool): not supported; mmrotate's option is refused loudly.
        scale_angle (bool): learnable scale on the angle output.
        angle_coder (dict): ``PseudoAngleCoder`` (direct regression).
        bbox_coder (dict): ``DistanceAnglePointCoder``.
        loss_bbox (dict): the rotated box loss (``GDLoss`` KLD by default).
        loss_angle (dict, optional): extra loss on the angle alone.
    """

    def __init__(self, num_classes: int, in_channels: int, angle_version: str = 'le90',
                 use_hbbox_loss: bool = False, scale_angle: bool = True,
                 angle_coder: ConfigType = dict(type='PseudoAngleCoder'),
                 bbox_coder: ConfigType = dict(type='DistanceAnglePointCoder'),
                 loss_bbox: ConfigType = dict(type='GDLoss', loss_type='kld', fun='log1p', tau=1.0),
                 loss_angle: OptConfigType = None, **kwargs) -> None:
        if use_hbbox_loss:
            raise NotImplementedError('RotatedFCOSHead: use_hbbox_loss=True is not implemented in visiondiv; '
                                      'use a rotated box loss (GDLoss, KFLoss)')
        self.angle_version = angle_version
        self.is_scale_angle = scale_angle
        self.angle_coder = TASK_UTILS.build(angle_coder)
        bbox_coder = dict(bbox_coder)
        bbox_coder.setdefault('angle_version', angle_version)
        super().__init__(num_classes, in_channels, bbox_coder=bbox_coder, loss_bbox=loss_bbox, **kwargs)
        # mmdet's FCOS scores decoded boxes: that is the input of a loss that declares nothing
        self.loss_box_input = declared_box_input(self.loss_bbox) or 'decoded'
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
            pred_enc = torch.cat([pos_bbox, self.angle_coder.decode(pos_angle, keepdim=True)], -1)
            target_enc = torch.cat([pos_bbox_targets, pos_angle_targets], -1)
            if self.loss_box_input == 'encoded':
                losses['loss_bbox'] = self.loss_bbox(pred_enc, target_enc, weight=ctr_targets,
                                                     avg_factor=ctr_denorm)
            else:
                pred_dec = get_box_tensor(self.bbox_coder.decode(pos_points, pred_enc))
                target_dec = get_box_tensor(self.bbox_coder.decode(pos_points, target_enc))
                if self.loss_box_input == 'both':
                    losses['loss_bbox'] = self.loss_bbox(pred_enc, target_enc, weight=ctr_targets,
                                                         avg_factor=ctr_denorm, pred_decode=pred_dec,
                                                         targets_decode=target_dec)
                else:
                    losses['loss_bbox'] = self.loss_bbox(pred_dec, target_dec, weight=ctr_targets,
                                                         avg_factor=ctr_denorm)
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
        merged = [torch.cat([b, self.angle_coder.decode(a.permute(0, 2, 3, 1), keepdim=True).permute(0, 3, 1, 2)],
                            dim=1) for b, a in zip(bbox_preds, angle_preds)]
        return super().predict_by_feat(cls_scores, merged, score_factors=centernesses,
                                       batch_img_metas=batch_img_metas, cfg=cfg, rescale=rescale,
                                       with_nms=with_nms)
