"""Rotated RTMDet heads (RTMDet-R) on mmdet's ``RTMDetHead``/``RTMDetSepBNHead``, as mmrotate 1.x's.

Module names (``cls_convs``, ``reg_convs``, ``rtm_cls``, ``rtm_reg``, ``rtm_ang``, ``rtm_obj``, ``scales``,
``scale_angle``), registry names and arguments are mmrotate's, so mmrotate's RTMDet-R configs and checkpoints
work unchanged. Two things differ from mmrotate, both only where mmrotate fails:

* **Gaussian box losses** (``GDLoss`` KLD/GWD/..., ``GDLoss_v1``, ``KFLoss``): RTMDet regresses the four
  distances without a positivity constraint (``exp_on_reg=False``, the tiny and s models), so a decoded side
  w = l + r can be <= 0 or tiny. mmrotate's Gaussian losses then return NaN (they build the covariance in
  image axes and its determinant cancels to <= 0 in fp32, mmyolo#836); visiondiv's losses stay finite but
  clamp the side, so the loss has no gradient at w <= 0 (the box can never grow back) and a gradient of
  order 1 / w just above 0 (KLD). Before such a loss, the head passes each predicted side through the soft
  floor :func:`soft_side_floor` (identity above ``gaussian_min_side``), see
  ``tests/test_models/test_dense_heads/test_rotated_rtmdet_head.py::test_gaussian_loss_on_non_positive_sides``.
* **KFLoss** needs encoded deltas besides the decoded boxes (mmrotate#798: RTMDet-R gave it decoded boxes
  only); the head passes :func:`point_deltas` (see there what "encoded" means for a point prior).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.cnn import Scale
from mmdet.models.dense_heads import RTMDetHead, RTMDetSepBNHead
from mmdet.models.utils import multi_apply, unmap
from mmdet.models.task_modules import anchor_inside_flags
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, distance2bbox, get_box_tensor
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptInstanceList, reduce_mean
from mmengine.model import normal_init
from mmengine.structures import InstanceData
from torch import Tensor, nn

from visiondiv.registry import MODELS, TASK_UTILS
from visiondiv.structures.bbox import check_angle_version, regularize_rboxes
from ..losses import GDLoss, GDLoss_v1, KFLoss
from ..losses.utils import declared_box_input
from ..utils import FP32LossMixin
from ._angle_branch import check_hbbox_loss_has_angle_loss, merge_decoded_angle

#: the box losses that model a box as a Gaussian of covariance diag(w^2, h^2) / 4
GAUSSIAN_LOSSES = (GDLoss, GDLoss_v1, KFLoss)


def soft_side_floor(sides: Tensor, min_side: float) -> Tensor:
    """Box sides kept positive with a gradient everywhere: s for s >= m, m^2 / (2m - s) below.

    The two pieces meet with equal value (m) and slope (1) at s = m, so the map is C1, increasing and
    positive: a side <= 0 becomes a small positive one whose gradient still points the same way (a loss
    that wants the side larger pushes it up), and a loss with a 1 / s gradient (KLD) gets at most about
    1 / m per unit of side.

    Args:
        sides (Tensor): box sides (any shape), may be <= 0.
        min_side (float): m > 0, where the floor starts; sides >= m are returned unchanged.

    Returns:
        Tensor: the floored sides, same shape, all > 0.
    """
    below = min_side * min_side / (2 * min_side - sides.clamp(max=min_side))
    return torch.where(sides >= min_side, sides, below)


def point_deltas(points: Tensor, boxes: Tensor, strides: Tensor) -> Tensor:
    """The "encoded" form of rotated boxes decoded from point priors, for losses that need deltas (``KFLoss``).

    (dx, dy, dw, dh, angle) = ((cx - px) / s, (cy - py) / s, w / s, h / s, angle), s the prior's stride: the
    box relative to its point in units of the level's stride, i.e. ``DeltaXYWHT``'s (dx, dy) for a square anchor
    of side s centred on the point. ``KFLoss`` puts its smooth-L1 centre term on (dx, dy), so the centre is
    learnt scale-free, as with anchors; w, h enter only through the Kalman overlap of the decoded boxes.

    Args:
        points (Tensor): prior points (n, 2+) (x, y, ...).
        boxes (Tensor): rotated boxes (n, 5) decoded from those points.
        strides (Tensor): (n,) stride of each point's level.

    Returns:
        Tensor: (n, 5) deltas.
    """
    s = strides[:, None]
    return torch.cat([(boxes[:, :2] - points[:, :2]) / s, boxes[:, 2:4] / s, boxes[:, 4:5]], -1)


@MODELS.register_module()
class RotatedRTMDetHead(FP32LossMixin, RTMDetHead):
    """RTMDet head with an angle branch (``rtm_ang``), mmrotate's ``RotatedRTMDetHead``.

    Distances (l, t, r, b) = exp(``rtm_reg``) x stride and the angle decode to rotated boxes about each point
    (``DistanceAnglePointCoder``); mmdet's ``DynamicSoftLabelAssigner`` assigns them with a rotated IoU
    (``iou_calculator=dict(type='RBboxOverlaps2D')``). The box loss (``RotatedIoULoss`` in mmrotate's configs)
    gets decoded rotated boxes weighted by the assignment IoUs, or what it declares (``KFLoss``: the
    :func:`point_deltas` plus both decoded boxes); Gaussian losses get the predicted sides through
    :func:`soft_side_floor` (see the module docstring).

    Args:
        num_classes (int): Number of object classes (excluding the background).
        in_channels (int): Channels of the input feature maps.
        angle_version (str): ``'oc'``, ``'le90'`` or ``'le135'``: regularises the targets and wraps the decoded
            angles; also the default of ``bbox_coder``'s. Defaults to ``'le90'``.
        use_hbbox_loss (bool): Horizontal box loss (e.g. ``mmdet.GIoULoss``) on the (l, t, r, b) decoded as
            horizontal boxes, the angle learnt by ``loss_angle`` alone. Defaults to False.
        scale_angle (bool): Learnable scale on the angle output. Defaults to True.
        angle_coder (dict): Angle coder; its ``encode_size`` is ``rtm_ang``'s channels. Defaults to
            ``dict(type='PseudoAngleCoder')``.
        loss_angle (dict, optional): Loss on the encoded angle, weighted like the box loss; None for none.
            Defaults to None.
        gaussian_min_side (float): The m of :func:`soft_side_floor`, in pixels, applied to the predicted sides
            before a Gaussian box loss; 0 turns it off (mmrotate's behaviour). Defaults to 1.0.
        **kwargs: mmdet's ``RTMDetHead``/``ATSSHead`` arguments (``stacked_convs``, ``feat_channels``,
            ``anchor_generator``, ``bbox_coder``, ``loss_cls``, ``loss_bbox``, ``with_objectness``,
            ``pred_kernel_size``, ``norm_cfg``, ``act_cfg``, ``train_cfg``, ``test_cfg``...).

    Raises:
        ValueError: For an unknown ``angle_version``, or ``use_hbbox_loss`` without ``loss_angle``.
    """

    def __init__(self, num_classes: int, in_channels: int, angle_version: str = 'le90',
                 use_hbbox_loss: bool = False, scale_angle: bool = True,
                 angle_coder: ConfigType = dict(type='PseudoAngleCoder'), loss_angle: OptConfigType = None,
                 gaussian_min_side: float = 1.0, **kwargs) -> None:
        check_angle_version(angle_version, type(self).__name__)
        check_hbbox_loss_has_angle_loss(type(self).__name__, use_hbbox_loss, loss_angle)
        if gaussian_min_side < 0:
            raise ValueError(f'{type(self).__name__}: gaussian_min_side must be >= 0, got {gaussian_min_side}')
        self.angle_version = angle_version
        self.use_hbbox_loss = use_hbbox_loss
        self.is_scale_angle = scale_angle
        self.gaussian_min_side = gaussian_min_side
        self.angle_coder = TASK_UTILS.build(angle_coder)
        bbox_coder = dict(kwargs.pop('bbox_coder', dict(type='DistanceAnglePointCoder')))
        bbox_coder.setdefault('angle_version', angle_version)
        # mmdet's ATSSHead builds a centerness loss that RTMDet never uses
        kwargs.setdefault('loss_centerness', dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True,
                                                  loss_weight=1.0))
        super().__init__(num_classes, in_channels, bbox_coder=bbox_coder, **kwargs)
        self.loss_angle = MODELS.build(loss_angle) if loss_angle is not None else None
        self.loss_box_input = declared_box_input(self.loss_bbox) or 'decoded'
        self.floor_sides = gaussian_min_side > 0 and isinstance(self.loss_bbox, GAUSSIAN_LOSSES)

    def _init_layers(self) -> None:
        super()._init_layers()
        self.rtm_ang = nn.Conv2d(self.feat_channels, self.num_base_priors * self.angle_coder.encode_size,
                                 self.pred_kernel_size, padding=self.pred_kernel_size // 2)
        if self.is_scale_angle:
            self.scale_angle = Scale(1.0)

    def init_weights(self) -> None:
        """mmdet's initialisation, plus N(0, 0.01) for ``rtm_ang``."""
        super().init_weights()
        normal_init(self.rtm_ang, std=0.01)

    def _angle(self, reg_feat: Tensor, layer: nn.Module) -> Tensor:
        angle = layer(reg_feat)
        return (self.scale_angle(angle) if self.is_scale_angle else angle).float()

    def forward(self, feats: Tuple[Tensor, ...]) -> Tuple[Tuple[Tensor, ...], ...]:
        """Class scores, distances (l, t, r, b) in pixels (fp32) and angle outputs per level.

        Args:
            feats (tuple[Tensor]): feature maps (N, C, H, W), one per stride.

        Returns:
            tuple: ``cls_scores``, ``bbox_preds`` (N, 4, H, W), ``angle_preds`` (N, encode_size, H, W).
        """
        cls_scores, bbox_preds, angle_preds = [], [], []
        for x, scale, stride in zip(feats, self.scales, self.prior_generator.strides):
            cls_feat, reg_feat = x, x
            for layer in self.cls_convs:
                cls_feat = layer(cls_feat)
            for layer in self.reg_convs:
                reg_feat = layer(reg_feat)
            cls_scores.append(self._cls_score(self.rtm_cls(cls_feat), reg_feat,
                                              self.rtm_obj if self.with_objectness else None))
            # exp in fp32: under fp16 autocast exp(> 11) is inf, and inf - inf in the decoding is NaN
            bbox_preds.append(scale(self.rtm_reg(reg_feat).float().exp()).float() * stride[0])
            angle_preds.append(self._angle(reg_feat, self.rtm_ang))
        return tuple(cls_scores), tuple(bbox_preds), tuple(angle_preds)

    @staticmethod
    def _cls_score(cls_score: Tensor, reg_feat: Tensor, obj_layer: Optional[nn.Module]) -> Tensor:
        if obj_layer is None:
            return cls_score
        from mmdet.models.utils import inverse_sigmoid, sigmoid_geometric_mean
        return inverse_sigmoid(sigmoid_geometric_mean(cls_score, obj_layer(reg_feat)))

    # ------------------------------------------------------------------ training
    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], angle_preds: List[Tensor],
                     batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> Dict[str, List[Tensor]]:
        """Per-level ``loss_cls``, ``loss_bbox`` (and ``loss_angle`` with one), as mmrotate's.

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, 4, H, W) distances in pixels per level.
            angle_preds (list[Tensor]): (N, encode_size, H, W) per level.
            batch_gt_instances (list[InstanceData]): ``bboxes`` (``RotatedBoxes``) and ``labels`` per image.
            batch_img_metas (list[dict]): image metas (``img_shape``...).
            batch_gt_instances_ignore (list[InstanceData], optional): ignored boxes. Defaults to None.

        Returns:
            dict[str, list[Tensor]]: the losses of each level.
        """
        num_imgs = len(batch_img_metas)
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, batch_img_metas, device=device)
        flat_cls = torch.cat([c.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
                              for c in cls_scores], 1)
        decoded, decoded_h, angles = [], [], []
        for anchor, bbox_pred, angle_pred in zip(anchor_list[0], bbox_preds, angle_preds):
            anchor = anchor.reshape(-1, 4)
            bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4)
            angle_pred = angle_pred.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.angle_coder.encode_size)
            if self.use_hbbox_loss:
                decoded_h.append(distance2bbox(anchor, bbox_pred))
            dist = torch.cat([bbox_pred, self.angle_coder.decode(angle_pred, keepdim=True)], -1)
            decoded.append(get_box_tensor(self.bbox_coder.decode(anchor[None, :, :2].expand(num_imgs, -1, -1),
                                                                 dist)))
            angles.append(angle_pred)
        (anchor_list, labels_list, label_weights_list, bbox_targets_list, assign_metrics_list,
         _) = self.get_targets(flat_cls, torch.cat(decoded, 1), anchor_list, valid_flag_list, batch_gt_instances,
                               batch_img_metas, batch_gt_instances_ignore=batch_gt_instances_ignore)
        losses_cls, losses_bbox, losses_angle, cls_avg, bbox_avg = multi_apply(
            self.loss_by_feat_single, cls_scores, decoded_h if self.use_hbbox_loss else decoded, angles,
            labels_list, label_weights_list, bbox_targets_list, assign_metrics_list, anchor_list,
            self.prior_generator.strides)
        cls_factor = reduce_mean(sum(cls_avg)).clamp_(min=1).item()
        bbox_factor = reduce_mean(sum(bbox_avg)).clamp_(min=1).item()
        losses = dict(loss_cls=[x / cls_factor for x in losses_cls],
                      loss_bbox=[x / bbox_factor for x in losses_bbox])
        if self.loss_angle is not None:
            losses['loss_angle'] = [x / bbox_factor for x in losses_angle]
        return losses

    def loss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor, angle_pred: Tensor, labels: Tensor,
                            label_weights: Tensor, bbox_targets: Tensor, assign_metrics: Tensor, anchors: Tensor,
                            stride: Tuple[int, int]) -> Tuple[Tensor, ...]:
        """Losses of one level: classification (all priors) and box/angle (positives), unnormalised.

        Args:
            cls_score (Tensor): (N, num_classes, H, W).
            bbox_pred (Tensor): decoded boxes (N, H*W, 5), or horizontal ones (N, H*W, 4) with
                ``use_hbbox_loss``.
            angle_pred (Tensor): (N, H*W, encode_size).
            labels (Tensor): (N, H*W) class indices, ``num_classes`` for the background.
            label_weights (Tensor): (N, H*W).
            bbox_targets (Tensor): (N, H*W, 5) regularised target boxes.
            assign_metrics (Tensor): (N, H*W) soft labels (assignment IoUs of positives).
            anchors (Tensor): (N, H*W, 4) priors (x, y, stride_w, stride_h).
            stride (tuple[int, int]): the level's stride.

        Returns:
            tuple[Tensor, ...]: loss_cls, loss_bbox, loss_angle, the sum of the soft labels (classification
            normaliser) and of the positive weights (box normaliser).
        """
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels).contiguous()
        bbox_pred = bbox_pred.reshape(-1, 4 if self.use_hbbox_loss else 5)
        bbox_targets, anchors = bbox_targets.reshape(-1, 5), anchors.reshape(-1, 4)
        labels, assign_metrics = labels.reshape(-1), assign_metrics.reshape(-1)
        angle_pred = angle_pred.reshape(-1, self.angle_coder.encode_size)
        loss_cls = self.loss_cls(cls_score, (labels, assign_metrics), label_weights.reshape(-1), avg_factor=1.0)
        pos = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        if len(pos) == 0:
            zero = bbox_pred.sum() * 0 + angle_pred.sum() * 0
            return loss_cls, zero, angle_pred.sum() * 0, assign_metrics.sum(), bbox_targets.new_tensor(0.)
        pos_targets, weight = bbox_targets[pos], assign_metrics[pos]
        loss_angle = angle_pred.sum() * 0
        if self.loss_angle is not None:
            angle_target = self.angle_coder.encode(pos_targets[:, 4:5])
            angle_weight = weight[:, None] if angle_target.dim() == 2 else weight
            loss_angle = self.loss_angle(angle_pred[pos], angle_target, weight=angle_weight, avg_factor=1.0)
        if self.use_hbbox_loss:
            loss_bbox = self.loss_bbox(bbox_pred[pos], bbox_cxcywh_to_xyxy(pos_targets[:, :4]), weight=weight,
                                       avg_factor=1.0)
        else:
            loss_bbox = self._rbox_loss(bbox_pred[pos], pos_targets, anchors[pos], weight)
        return loss_cls, loss_bbox, loss_angle, assign_metrics.sum(), weight.sum()

    def _rbox_loss(self, pred: Tensor, target: Tensor, priors: Tensor, weight: Tensor) -> Tensor:
        """``loss_bbox`` of positive decoded boxes, on the input it declares (module docstring)."""
        if self.floor_sides:
            pred = torch.cat([pred[:, :2], soft_side_floor(pred[:, 2:4], self.gaussian_min_side), pred[:, 4:]], -1)
        if self.loss_box_input == 'decoded':
            return self.loss_bbox(pred, target, weight=weight, avg_factor=1.0)
        pred_enc = point_deltas(priors, pred, priors[:, 2])
        target_enc = point_deltas(priors, target, priors[:, 2])
        if self.loss_box_input == 'encoded':
            return self.loss_bbox(pred_enc, target_enc, weight=weight, avg_factor=1.0)
        return self.loss_bbox(pred_enc, target_enc, weight=weight, avg_factor=1.0, pred_decode=pred,
                              targets_decode=target)

    def _get_targets_single(self, cls_scores: Tensor, bbox_preds: Tensor, flat_anchors: Tensor,
                            valid_flags: Tensor, gt_instances: InstanceData, img_meta: dict,
                            gt_instances_ignore: Optional[InstanceData] = None, unmap_outputs: bool = True
                            ) -> tuple:
        """mmrotate's targets of one image: rotated, ``angle_version``-regularised boxes (5 values)."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta['img_shape'][:2],
                                     self.train_cfg['allowed_border'])
        if not inside.any():
            return (None,) * 7
        anchors = flat_anchors[inside, :]
        pred_instances = InstanceData(scores=cls_scores[inside, :], bboxes=bbox_preds[inside, :], priors=anchors)
        assign_result = self.assigner.assign(pred_instances, gt_instances, gt_instances_ignore)
        sampling = self.sampler.sample(assign_result, pred_instances, gt_instances)
        n = anchors.shape[0]
        bbox_targets = anchors.new_zeros((n, 5))
        labels = anchors.new_full((n,), self.num_classes, dtype=torch.long)
        label_weights = anchors.new_zeros(n, dtype=torch.float)
        assign_metrics = anchors.new_zeros(n, dtype=torch.float)
        pos_inds, neg_inds = sampling.pos_inds, sampling.neg_inds
        if len(pos_inds) > 0:
            gt = regularize_rboxes(get_box_tensor(sampling.pos_gt_bboxes), self.angle_version)
            bbox_targets[pos_inds, :] = gt.to(anchors.dtype)
            labels[pos_inds] = sampling.pos_gt_labels
            pos_weight = self.train_cfg['pos_weight']
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
            assign_metrics[pos_inds] = assign_result.max_overlaps[pos_inds].to(anchors.dtype)
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        if unmap_outputs:
            total_n = flat_anchors.size(0)
            anchors = unmap(anchors, total_n, inside)
            labels = unmap(labels, total_n, inside, fill=self.num_classes)
            label_weights = unmap(label_weights, total_n, inside)
            bbox_targets = unmap(bbox_targets, total_n, inside)
            assign_metrics = unmap(assign_metrics, total_n, inside)
        return anchors, labels, label_weights, bbox_targets, assign_metrics, sampling

    # ------------------------------------------------------------------ inference
    def predict_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], angle_preds: List[Tensor],
                        score_factors: Optional[List[Tensor]] = None, batch_img_metas: Optional[List[dict]] = None,
                        cfg: OptConfigType = None, rescale: bool = False, with_nms: bool = True) -> InstanceList:
        """Rotated boxes per image: the angle merged into the distances, then mmdet's decoding and NMS.

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, 4, H, W) distances in pixels per level.
            angle_preds (list[Tensor]): (N, encode_size, H, W) per level.
            score_factors (list[Tensor], optional): unused by RTMDet (None). Defaults to None.
            batch_img_metas (list[dict], optional): image metas. Defaults to None.
            cfg (dict, optional): test config; None for ``test_cfg``. Defaults to None.
            rescale (bool): boxes back to the original image scale. Defaults to False.
            with_nms (bool): apply ``cfg.nms`` (``nms_rotated``). Defaults to True.

        Returns:
            list[InstanceData]: ``bboxes`` (``RotatedBoxes``), ``scores``, ``labels`` per image.
        """
        merged = merge_decoded_angle(self.angle_coder, bbox_preds, angle_preds)
        return super().predict_by_feat(cls_scores, merged, score_factors=score_factors,
                                       batch_img_metas=batch_img_metas, cfg=cfg, rescale=rescale,
                                       with_nms=with_nms)


@MODELS.register_module()
class RotatedRTMDetSepBNHead(RotatedRTMDetHead):
    """Rotated RTMDet head with per-level BN and convs shared across levels, mmrotate's ``RotatedRTMDetSepBNHead``.

    The layers are mmdet's ``RTMDetSepBNHead``'s (per level ``cls_convs.<l>``, ``reg_convs.<l>``, ``rtm_cls.<l>``,
    ``rtm_reg.<l>``; with ``share_conv`` every level uses level 0's conv weights, each level keeps its own BN),
    plus a per-level ``rtm_ang.<l>``. There are no ``scales``.

    Args:
        num_classes (int): Number of object classes (excluding the background).
        in_channels (int): Channels of the input feature maps.
        share_conv (bool): Share the stacked convs across levels. Defaults to True.
        scale_angle (bool): Must be False (as in mmrotate). Defaults to False.
        norm_cfg (dict): Normalisation of the stacked convs. Defaults to
            ``dict(type='BN', momentum=0.03, eps=0.001)``.
        act_cfg (dict): Activation. Defaults to ``dict(type='SiLU')``.
        pred_kernel_size (int): Kernel size of the prediction convs. Defaults to 1.
        exp_on_reg (bool): Distances are exp(``rtm_reg``) x stride; False: ``rtm_reg`` x stride, which can be
            <= 0 (see :func:`soft_side_floor`). Defaults to False.
        **kwargs: :class:`RotatedRTMDetHead`'s other arguments.

    Raises:
        ValueError: If ``scale_angle`` is True, and as :class:`RotatedRTMDetHead`.
    """

    def __init__(self, num_classes: int, in_channels: int, share_conv: bool = True, scale_angle: bool = False,
                 norm_cfg: ConfigType = dict(type='BN', momentum=0.03, eps=0.001),
                 act_cfg: ConfigType = dict(type='SiLU'), pred_kernel_size: int = 1, exp_on_reg: bool = False,
                 **kwargs) -> None:
        if scale_angle:
            raise ValueError('RotatedRTMDetSepBNHead: scale_angle=True is not supported (as in mmrotate)')
        self.share_conv = share_conv
        self.exp_on_reg = exp_on_reg
        self.use_depthwise = False
        super().__init__(num_classes, in_channels, norm_cfg=norm_cfg, act_cfg=act_cfg,
                         pred_kernel_size=pred_kernel_size, scale_angle=False, **kwargs)

    def _init_layers(self) -> None:
        RTMDetSepBNHead._init_layers(self)
        self.rtm_ang = nn.ModuleList(
            nn.Conv2d(self.feat_channels, self.num_base_priors * self.angle_coder.encode_size,
                      self.pred_kernel_size, padding=self.pred_kernel_size // 2)
            for _ in self.prior_generator.strides)

    def init_weights(self) -> None:
        """mmdet's ``RTMDetSepBNHead`` initialisation, plus N(0, 0.01) for each ``rtm_ang``."""
        RTMDetSepBNHead.init_weights(self)
        for layer in self.rtm_ang:
            normal_init(layer, std=0.01)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tuple[Tuple[Tensor, ...], ...]:
        """Class scores, distances (l, t, r, b) in pixels (fp32) and angle outputs per level.

        Args:
            feats (tuple[Tensor]): feature maps (N, C, H, W), one per stride.

        Returns:
            tuple: ``cls_scores``, ``bbox_preds`` (N, 4, H, W), ``angle_preds`` (N, encode_size, H, W).
        """
        cls_scores, bbox_preds, angle_preds = [], [], []
        for idx, (x, stride) in enumerate(zip(feats, self.prior_generator.strides)):
            cls_feat, reg_feat = x, x
            for layer in self.cls_convs[idx]:
                cls_feat = layer(cls_feat)
            for layer in self.reg_convs[idx]:
                reg_feat = layer(reg_feat)
            cls_scores.append(self._cls_score(self.rtm_cls[idx](cls_feat), reg_feat,
                                              self.rtm_obj[idx] if self.with_objectness else None))
            reg = self.rtm_reg[idx](reg_feat).float()
            bbox_preds.append((reg.exp() if self.exp_on_reg else reg) * stride[0])
            angle_preds.append(self.rtm_ang[idx](reg_feat).float())
        return tuple(cls_scores), tuple(bbox_preds), tuple(angle_preds)
