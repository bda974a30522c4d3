"""Oriented RPN head of Oriented R-CNN (mmrotate's ``OrientedRPNHead``) on mmdet's ``RPNHead``."""
from typing import Optional

import torch
from mmcv.ops import batched_nms
from mmdet.structures.bbox import BaseBoxes, get_box_tensor, get_box_wh, scale_boxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import rbox2hbox
from .rotated_rpn_head import RotatedRPNHead


@MODELS.register_module()
class OrientedRPNHead(RotatedRPNHead):
    """mmdet's RPN head proposing rotated boxes: NMS on their horizontal envelopes, rboxes returned.

    With mmrotate's ``MidpointOffsetCoder`` the head regresses six deltas per
    anchor (``bbox_coder.encode_size``) and decodes them to ``RotatedBoxes``;
    the proposals of each level are suppressed by mmcv's horizontal
    ``batched_nms`` on the boxes' axis-aligned envelopes (fp32), as mmrotate
    does. As :class:`RotatedRPNHead` (its base: the assigner check, fp32 losses), proposals are decoded from
    fp32 anchors and the predictions cast to fp32, also under autocast.
    Its module names (``rpn_conv``, ``rpn_cls``, ``rpn_reg``) are mmrotate's state-dict keys.

    Args:
        *args: Positional arguments of mmdet's ``RPNHead`` (``in_channels``, ``num_classes``, ``init_cfg``,
            ``num_convs``).
        **kwargs: Keyword arguments of mmdet's ``RPNHead`` (``anchor_generator``, ``bbox_coder``,
            ``loss_cls``, ``loss_bbox``, ``train_cfg``, ``test_cfg``...). With a ``train_cfg``, the assigner is
            checked by :func:`~visiondiv.models.task_modules.assigners.check_assigner_skip_below`.
    """

    #: the box type of the proposals this head gives the RoI head (read by the config check)
    proposal_box_type = 'rbox'

    def _bbox_post_process(self, results: InstanceData, cfg: ConfigDict, rescale: bool = False,
                           with_nms: bool = True, img_meta: Optional[dict] = None) -> InstanceData:
        """Rescale, drop boxes not larger than ``cfg['min_bbox_size']``, per-level NMS on the envelopes.

        Returns:
            InstanceData: ``bboxes`` (rotated), ``scores`` and ``labels`` (all 0) of at most
            ``cfg.max_per_img`` proposals.
        """
        if not with_nms:
            raise ValueError('OrientedRPNHead needs with_nms=True')
        if rescale:
            if img_meta.get('scale_factor') is None:
                raise ValueError('rescale=True needs img_meta["scale_factor"]')
            results.bboxes = scale_boxes(results.bboxes, [1 / s for s in img_meta['scale_factor']])
        if cfg.get('min_bbox_size', -1) >= 0:
            w, h = get_box_wh(results.bboxes)
            valid = (w > cfg['min_bbox_size']) & (h > cfg['min_bbox_size'])
            if not valid.all():
                results = results[valid]
        if results.bboxes.numel() > 0:
            hboxes = rbox2hbox(get_box_tensor(results.bboxes).float())
            dets, keep = batched_nms(hboxes, results.scores.float(), results.level_ids, cfg['nms'])
            results = results[keep]
            results.scores = dets[:, -1]
            results = results[:cfg['max_per_img']]
            results.labels = results.scores.new_zeros(len(results), dtype=torch.long)
            del results.level_ids
        else:
            empty = InstanceData()
            empty.bboxes = (results.bboxes.empty_boxes() if isinstance(results.bboxes, BaseBoxes)
                            else results.scores.new_zeros(0, 5))
            empty.scores = results.scores.new_zeros(0)
            empty.labels = results.scores.new_zeros(0, dtype=torch.long)
            results = empty
        return results
