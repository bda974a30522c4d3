"""R3Det's heads (mmrotate's ``R3Head`` and ``R3RefineHead``, same module names and config fields).

The first stage (``R3Head``) is a rotated RetinaNet head that hands on, at every feature-map location,
the box decoded from its best anchor; a refine stage (``R3RefineHead``) refines the features at those
boxes (``frm_cfg``, mmrotate's ``FRM``) and regresses from them as its anchors (one per location), either
to the final boxes or to the boxes the next refine stage starts from. Both build on
:class:`~visiondiv.models.dense_heads.RotatedRetinaHead`, so the box loss gets the input it declares
(smooth-L1 the deltas, KLD the decoded boxes, KFIoU both) in every stage, in fp32 under autocast.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmdet.models.utils import select_single_mlvl
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import RotatedBoxes
from ..utils.fp32_loss import to_fp32
from .rotated_retina_head import RotatedRetinaHead

Rois = List[List[Tensor]]


def _check_levels(cls_scores: Sequence[Tensor], bbox_preds: Sequence[Tensor]) -> int:
    """The batch size, after checking that both lists have the same levels and batch."""
    if len(cls_scores) != len(bbox_preds):
        raise ValueError(f'{len(cls_scores)} levels of cls_scores but {len(bbox_preds)} of bbox_preds')
    num_imgs = cls_scores[0].size(0)
    if any(c.size(0) != num_imgs or b.size(0) != num_imgs for c, b in zip(cls_scores, bbox_preds)):
        raise ValueError('cls_scores and bbox_preds disagree on the batch size')
    return num_imgs


def _by_image(levels: List[Tensor]) -> Rois:
    """(N, H*W, 5) tensors, one per level -> ``rois[img][lvl]`` of shape (H*W, 5)."""
    return [[level[i] for level in levels] for i in range(levels[0].size(0))]


def decode_best_anchors(head: RotatedRetinaHead, cls_scores: List[Tensor], bbox_preds: List[Tensor]) -> Rois:
    """At every location, ``head``'s anchor with the largest class logit decoded with its deltas (detached).

    Ties go to the first anchor; with one anchor per location (S2ANet) every location decodes its anchor.
    The deltas are decoded in fp32 from fp32 anchors (under autocast the predictions are fp16/bf16: the
    boxes are not rounded to them), and the boxes are fp32.

    Args:
        head (RotatedRetinaHead): The head (its ``prior_generator``, ``bbox_coder``, ``num_base_priors``,
            ``cls_out_channels``).
        cls_scores (list[Tensor]): (N, A * num_classes, H, W) per level.
        bbox_preds (list[Tensor]): (N, A * 5, H, W) per level.

    Returns:
        list[list[Tensor]]: ``rois[img][lvl]``, (H*W, 5) fp32 boxes in row-major location order, no gradient.
    """
    num_imgs = _check_levels(cls_scores, bbox_preds)
    featmap_sizes = [c.shape[-2:] for c in cls_scores]
    mlvl_anchors = head.prior_generator.grid_priors(featmap_sizes, device=cls_scores[0].device)
    a = head.num_base_priors
    levels = []
    for cls_score, bbox_pred, anchors in zip(cls_scores, bbox_preds, mlvl_anchors):
        score = cls_score.detach().float().permute(0, 2, 3, 1).reshape(num_imgs, -1, a, head.cls_out_channels)
        best = score.amax(-1).argmax(-1)                                            # (N, HW)
        pred = bbox_pred.detach().float().permute(0, 2, 3, 1).reshape(num_imgs, -1, a, 5)
        index = best[..., None, None].expand(-1, -1, 1, 5)
        best_pred = pred.gather(2, index).squeeze(2)                                # (N, HW, 5)
        anchors = get_box_tensor(anchors).float().reshape(1, -1, a, 5).expand(num_imgs, -1, -1, -1)
        best_anchor = anchors.gather(2, index).squeeze(2)
        boxes = get_box_tensor(head.bbox_coder.decode(best_anchor.reshape(-1, 5), best_pred.reshape(-1, 5)))
        levels.append(boxes.float().reshape(num_imgs, -1, 5).detach())
    return _by_image(levels)


@MODELS.register_module()
class R3Head(RotatedRetinaHead):
    """The first stage of `R3Det <https://arxiv.org/abs/1908.05612>`_: a rotated RetinaNet head whose
    :meth:`filter_bboxes` passes one box per location to the refine stages.

    Args:
        *args: Positional arguments of :class:`RotatedRetinaHead`.
        **kwargs: Keyword arguments of :class:`RotatedRetinaHead` (``num_classes``, ``in_channels``,
            ``anchor_generator``, ``bbox_coder``, ``loss_cls``, ``loss_bbox``, ``loss_bbox_type``...).
    """

    def filter_bboxes(self, cls_scores: List[Tensor], bbox_preds: List[Tensor]) -> Rois:
        """At every location, the box decoded from the anchor with the highest class score (detached).

        The best anchor is the one whose largest class logit is largest (mmrotate's rule); ties go to the
        first anchor.

        Args:
            cls_scores (list[Tensor]): (N, A * num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, A * 5, H, W) per level.

        Returns:
            list[list[Tensor]]: ``rois[img][lvl]``, (H*W, 5) fp32 boxes in row-major location order, no gradient.
        """
        return decode_best_anchors(self, cls_scores, bbox_preds)


class RotatedRefineHead(RotatedRetinaHead):
    """What R3Det's and S2ANet's refine heads share: the previous stage's boxes (``rois``) are the anchors.

    ``rois[img][lvl]`` holds one box per location of that level, (H*W, 5) in row-major order; the anchor
    generator (mmrotate's ``PseudoRotatedAnchorGenerator``) provides only the valid flags and must have one
    prior per location.

    Args:
        num_classes (int): Number of classes (without background).
        in_channels (int): Input channels.
        frm_cfg (dict): The feature refine/alignment module (``FRM``, ``AlignConv``...), called as
            ``module(x, rois)``. Defaults to None, which is refused (mmrotate's signature; the key is required).
        **kwargs: Keyword arguments of :class:`RotatedRetinaHead`.

    Raises:
        ValueError: If ``frm_cfg`` is missing or the anchor generator has more than one prior per location.
    """

    def __init__(self, num_classes: int, in_channels: int, frm_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        name = type(self).__name__
        if frm_cfg is None:
            raise ValueError(f"{name} needs frm_cfg (the feature refine module, e.g. dict(type='FRM', ...))")
        if any(n != 1 for n in self.prior_generator.num_base_priors):
            raise ValueError(f'{name}: anchor_generator must give one prior per location (its anchors are the '
                             f'previous stage boxes; use PseudoRotatedAnchorGenerator), got '
                             f'{self.prior_generator.num_base_priors}')
        self.feat_refine_module = MODELS.build(frm_cfg)
        self.bboxes_as_anchors: Optional[Rois] = None

    def feature_refine(self, x: Sequence[Tensor], rois: Rois) -> List[Tensor]:
        """The features refined at ``rois`` by ``frm_cfg``'s module.

        Args:
            x (Sequence[Tensor]): (N, C, H, W) per level.
            rois (list[list[Tensor]]): The previous stage's boxes, ``rois[img][lvl]`` (H*W, 5).

        Returns:
            list[Tensor]: The refined features, same shapes.
        """
        return self.feat_refine_module(x, rois)

    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], batch_gt_instances: List[InstanceData],
                     batch_img_metas: List[dict], batch_gt_instances_ignore: Optional[List[InstanceData]] = None,
                     rois: Optional[Rois] = None) -> dict:
        """RetinaNet's losses with ``rois`` as the anchors.

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, 5, H, W) per level.
            batch_gt_instances (list[InstanceData]): Ground truth (``bboxes``: RotatedBoxes, ``labels``).
            batch_img_metas (list[dict]): Image metas (``pad_shape``, ``img_shape``).
            batch_gt_instances_ignore (list[InstanceData], optional): Ignored ground truth. Defaults to None.
            rois (list[list[Tensor]]): The previous stage's boxes; required.

        Returns:
            dict: ``loss_cls`` and ``loss_bbox``, one value per level.

        Raises:
            ValueError: If ``rois`` is None.
        """
        if rois is None:
            raise ValueError(f'{type(self).__name__}.loss_by_feat needs rois (the previous stage boxes)')
        self.bboxes_as_anchors = rois
        try:
            return super().loss_by_feat(cls_scores, bbox_preds, batch_gt_instances, batch_img_metas,
                                        batch_gt_instances_ignore)
        finally:
            self.bboxes_as_anchors = None

    def get_anchors(self, featmap_sizes: List[Tuple[int, int]], batch_img_metas: List[dict],
                    device: Union[torch.device, str] = 'cuda') -> Tuple[List[List[RotatedBoxes]], List[List[Tensor]]]:
        """The rois given to :meth:`loss_by_feat` as anchors (detached), and mmdet's valid flags.

        Args:
            featmap_sizes (list[tuple[int, int]]): (H, W) per level.
            batch_img_metas (list[dict]): Image metas (``pad_shape``).
            device (torch.device | str): Device of the valid flags. Defaults to 'cuda'.

        Returns:
            tuple: ``anchor_list[img][lvl]`` (RotatedBoxes) and ``valid_flag_list[img][lvl]``.

        Raises:
            ValueError: If the rois do not hold one box per location of each level.
        """
        rois = self.bboxes_as_anchors
        if rois is None:
            raise ValueError(f'{type(self).__name__}: no rois; call loss_by_feat(..., rois=...)')
        sizes = [int(h) * int(w) for h, w in featmap_sizes]
        for img_rois in rois:
            if [len(r) for r in img_rois] != sizes:
                raise ValueError(f'{type(self).__name__}: rois hold {[len(r) for r in img_rois]} boxes per level, '
                                 f'the feature maps {sizes} locations')
        anchor_list = [[RotatedBoxes(r.detach()) for r in img_rois] for img_rois in rois]
        valid_flag_list = [self.prior_generator.valid_flags(featmap_sizes, meta['pad_shape'], device)
                           for meta in batch_img_metas]
        return anchor_list, valid_flag_list

    def predict_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                        score_factors: Optional[List[Tensor]] = None, rois: Optional[Rois] = None,
                        batch_img_metas: Optional[List[dict]] = None, cfg: Optional[ConfigDict] = None,
                        rescale: bool = False, with_nms: bool = True) -> List[InstanceData]:
        """Detections decoded from ``rois`` (fp32: rotated NMS misbehaves on fp16 boxes).

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, 5, H, W) per level.
            score_factors (list[Tensor], optional): Per-level score factors (unused by these heads).
                Defaults to None.
            rois (list[list[Tensor]]): The boxes the predictions refine; required.
            batch_img_metas (list[dict]): Image metas.
            cfg (ConfigDict, optional): Test config; ``test_cfg`` when None. Defaults to None.
            rescale (bool): Map the boxes to the original image size. Defaults to False.
            with_nms (bool): Apply NMS. Defaults to True.

        Returns:
            list[InstanceData]: ``bboxes`` (RotatedBoxes), ``scores``, ``labels`` per image.

        Raises:
            ValueError: If ``rois`` or ``batch_img_metas`` is None.
        """
        if rois is None or batch_img_metas is None:
            raise ValueError(f'{type(self).__name__}.predict_by_feat needs rois and batch_img_metas')
        cls_scores, bbox_preds, score_factors, rois = to_fp32((cls_scores, bbox_preds, score_factors, rois))
        results = []
        for img_id, img_meta in enumerate(batch_img_metas):
            factors = ([None] * len(cls_scores) if score_factors is None
                       else select_single_mlvl(score_factors, img_id, detach=True))
            results.append(self._predict_by_feat_single(
                cls_score_list=select_single_mlvl(cls_scores, img_id, detach=True),
                bbox_pred_list=select_single_mlvl(bbox_preds, img_id, detach=True),
                score_factor_list=factors, mlvl_priors=[r.detach() for r in rois[img_id]],
                img_meta=img_meta, cfg=cfg, rescale=rescale, with_nms=with_nms))
        return results

    def refine_bboxes(self, cls_scores: List[Tensor], bbox_preds: List[Tensor], rois: Rois) -> Rois:
        """The boxes this stage predicts from ``rois`` (detached): the next stage's rois.

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level (only checked).
            bbox_preds (list[Tensor]): (N, 5, H, W) per level.
            rois (list[list[Tensor]]): This stage's anchors, ``rois[img][lvl]`` (H*W, 5).

        Returns:
            list[list[Tensor]]: ``rois[img][lvl]`` for the next stage, fp32 (decoded in fp32 under autocast too),
            no gradient.
        """
        num_imgs = _check_levels(cls_scores, bbox_preds)
        levels = []
        for bbox_pred, level_rois in zip(bbox_preds, zip(*rois)):
            pred = bbox_pred.detach().float().permute(0, 2, 3, 1).reshape(-1, 5)
            anchors = torch.cat(level_rois).float()
            boxes = get_box_tensor(self.bbox_coder.decode(anchors, pred))
            levels.append(boxes.float().reshape(num_imgs, -1, 5).detach())
        return _by_image(levels)


@MODELS.register_module()
class R3RefineHead(RotatedRefineHead):
    """A refine stage of `R3Det <https://arxiv.org/abs/1908.05612>`_: RetinaNet's towers on the features
    refined by ``frm_cfg`` (mmrotate's ``FRM``), one anchor per location (the previous stage's box).

    Args:
        num_classes (int): Number of classes (without background).
        in_channels (int): Input channels.
        frm_cfg (dict): The feature refine module, e.g. ``dict(type='FRM', feat_channels=256, strides=[...])``.
        **kwargs: Keyword arguments of :class:`RotatedRetinaHead` (``anchor_generator`` is
            ``PseudoRotatedAnchorGenerator``).
    """
