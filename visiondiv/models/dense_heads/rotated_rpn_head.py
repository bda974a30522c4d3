"""RPN head of Rotated Faster R-CNN (mmrotate 0.x's ``RotatedRPNHead``): mmdet's ``RPNHead`` guarded for AMP."""
from typing import List, Optional

from mmdet.models.dense_heads import RPNHead
from mmdet.structures.bbox import BaseBoxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from visiondiv.registry import MODELS
from ..task_modules.assigners import check_assigner_skip_below
from ..utils import FP32LossMixin
from ..utils.fp32_loss import to_fp32


@MODELS.register_module()
class RotatedRPNHead(FP32LossMixin, RPNHead):
    """mmdet's ``RPNHead`` proposing horizontal boxes for rotated ground truth, with fp32 losses and NMS.

    mmrotate 1.x's Rotated Faster R-CNN config names ``mmdet.RPNHead`` (with ``DeltaXYWHHBBoxCoder``, which
    encodes rotated ground truth by its horizontal envelope); that head computes its losses in the autocast
    dtype and hands fp16/bf16 boxes to mmcv's NMS, whose CPU kernel takes fp32 only. This subclass (mmrotate
    0.x's name) has the same modules and state-dict keys (``rpn_conv``, ``rpn_cls``, ``rpn_reg``) and the same
    values in fp32; its losses run in fp32 (:class:`~visiondiv.models.utils.FP32LossMixin`), and its proposals
    are decoded and suppressed in fp32: under autocast the scores and deltas (fp16/bf16) are cast to fp32
    before mmdet's ``predict_by_feat``, so the anchors are built in fp32 too (mmdet builds them in the scores'
    dtype, which rounds them to bf16).

    Args:
        *args: Positional arguments of mmdet's ``RPNHead`` (``in_channels``, ``num_classes``, ``init_cfg``,
            ``num_convs``).
        **kwargs: Keyword arguments of mmdet's ``RPNHead`` (``anchor_generator``, ``bbox_coder``, ``loss_cls``,
            ``loss_bbox``, ``train_cfg``, ``test_cfg``...). With a ``train_cfg``, the assigner is checked by
            :func:`~visiondiv.models.task_modules.assigners.check_assigner_skip_below`.
    """

    #: the box type of the proposals this head gives the RoI head (read by the config check)
    proposal_box_type = 'hbox'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.train_cfg:
            check_assigner_skip_below(self.assigner)

    def predict_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                        score_factors: Optional[List[Tensor]] = None, batch_img_metas: Optional[List[dict]] = None,
                        cfg: Optional[ConfigDict] = None, rescale: bool = False,
                        with_nms: bool = True) -> List[InstanceData]:
        """mmdet's proposals from the predictions cast to fp32: fp32 anchors, decoding and NMS.

        Args:
            cls_scores (list[Tensor]): (N, A * num_classes, H, W) per level.
            bbox_preds (list[Tensor]): (N, A * encode_size, H, W) per level.
            score_factors (list[Tensor], optional): Unused by the RPN. Defaults to None.
            batch_img_metas (list[dict], optional): Image metas. Defaults to None.
            cfg (ConfigDict, optional): Test config; ``test_cfg`` when None. Defaults to None.
            rescale (bool): Map the boxes to the original image size. Defaults to False.
            with_nms (bool): Apply NMS. Defaults to True.

        Returns:
            list[InstanceData]: ``bboxes``, ``scores``, ``labels`` per image (fp32).
        """
        cls_scores, bbox_preds, score_factors = to_fp32((cls_scores, bbox_preds, score_factors))
        return super().predict_by_feat(cls_scores, bbox_preds, score_factors=score_factors,
                                       batch_img_metas=batch_img_metas, cfg=cfg, rescale=rescale,
                                       with_nms=with_nms)

    def _bbox_post_process(self, results: InstanceData, cfg: ConfigDict, rescale: bool = False,
                           with_nms: bool = True, img_meta: Optional[dict] = None) -> InstanceData:
        """mmdet's rescale, size filter and per-level NMS, on fp32 boxes and scores."""
        boxes = results.bboxes
        results.bboxes = type(boxes)(boxes.tensor.float()) if isinstance(boxes, BaseBoxes) else boxes.float()
        results.scores = results.scores.float()
        return super()._bbox_post_process(results, cfg, rescale=rescale, with_nms=with_nms, img_meta=img_meta)

