"""mmrotate's ``RefineSingleStageDetector`` (R3Det, S2ANet): a first-stage head and refine heads in sequence.

Config keys are mmrotate's: ``bbox_head_init``, ``bbox_head_refine`` (a list), ``train_cfg.init``,
``train_cfg.refine`` (a list) and ``train_cfg.stage_loss_weights``. Loss keys get the suffix ``_init`` or
``_refine_{i}``; refine stage i's losses are multiplied by ``stage_loss_weights[i]``.
"""
import copy
from typing import List, Optional, Sequence, Tuple

from mmdet.models.detectors.base import BaseDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import OptSampleList, SampleList
from mmengine.model import ModuleList
from torch import Tensor

from visiondiv.registry import MODELS


def _weighted(loss, weight: float):
    """``loss`` (a tensor or a per-level list of tensors) times ``weight``."""
    if isinstance(loss, (list, tuple)):
        return [item * weight for item in loss]
    return loss * weight


@MODELS.register_module()
class RefineSingleStageDetector(BaseDetector):
    """A single-stage detector whose first head's boxes are refined by one or more refine heads.

    The first head (``bbox_head_init``, e.g. ``R3Head``/``S2AHead``) hands one box per location to the
    first refine head (``filter_bboxes``); each refine head refines the features at those boxes
    (``feature_refine``), predicts from them as anchors and hands its boxes on (``refine_bboxes``). The
    last refine head gives the detections.

    Args:
        backbone (dict): Backbone config.
        neck (dict, optional): Neck config. Defaults to None.
        bbox_head_init (dict): First-stage head config; gets ``train_cfg.init`` and ``test_cfg``.
            Defaults to None, which is refused (mmrotate's signature; the key is required).
        bbox_head_refine (list[dict]): Refine head configs; head i gets ``train_cfg.refine[i]`` and ``test_cfg``.
            Defaults to None, which is refused.
        train_cfg (dict, optional): ``init``, ``refine`` (one per refine head) and ``stage_loss_weights``
            (one per refine head). Defaults to None (testing only).
        test_cfg (dict, optional): Test config shared by the heads. Defaults to None.
        data_preprocessor (dict, optional): Data preprocessor config. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.

    Raises:
        ValueError: If ``bbox_head_init`` or ``bbox_head_refine`` is missing, or ``train_cfg.refine`` or
            ``train_cfg.stage_loss_weights`` does not have one entry per refine head.
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, bbox_head_init: Optional[dict] = None,
                 bbox_head_refine: Optional[Sequence[dict]] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if bbox_head_init is None:
            raise ValueError('RefineSingleStageDetector needs bbox_head_init')
        if not bbox_head_refine:
            raise ValueError('RefineSingleStageDetector needs bbox_head_refine, a non-empty list of head configs')
        num_refine = len(bbox_head_refine)
        if train_cfg is not None:
            refine_cfgs = train_cfg.get('refine')
            weights = train_cfg.get('stage_loss_weights')
            if refine_cfgs is None or len(refine_cfgs) != num_refine:
                raise ValueError(f'train_cfg.refine has {None if refine_cfgs is None else len(refine_cfgs)} '
                                 f'entries for {num_refine} bbox_head_refine heads: train_cfg.refine and '
                                 f'train_cfg.stage_loss_weights need one entry per refine head')
            if weights is None or len(weights) != num_refine:
                raise ValueError(f'train_cfg.stage_loss_weights has {None if weights is None else len(weights)} '
                                 f'entries for {num_refine} bbox_head_refine heads: it needs one weight per '
                                 'refine head')
            if 'init' not in train_cfg:
                raise ValueError('RefineSingleStageDetector: train_cfg needs init (the first head train_cfg)')
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        bbox_head_init = copy.deepcopy(bbox_head_init)
        if train_cfg is not None:
            bbox_head_init.update(train_cfg=train_cfg['init'])
        bbox_head_init.update(test_cfg=test_cfg)
        self.bbox_head_init = MODELS.build(bbox_head_init)
        self.num_refine_stages = num_refine
        self.bbox_head_refine = ModuleList()
        for i, refine_head in enumerate(bbox_head_refine):
            refine_head = copy.deepcopy(refine_head)
            if train_cfg is not None:
                refine_head.update(train_cfg=train_cfg['refine'][i])
            refine_head.update(test_cfg=test_cfg)
            self.bbox_head_refine.append(MODELS.build(refine_head))
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone (and neck) features of ``batch_inputs`` (N, C, H, W)."""
        x = self.backbone(batch_inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def _stages(self, x: Sequence[Tensor], rois: List[List[Tensor]]):
        """Yield ``(i, outs, rois)`` for each refine stage: its outputs and the rois it predicted from."""
        for i, head in enumerate(self.bbox_head_refine):
            outs = head(head.feature_refine(x, rois))
            yield i, outs, rois
            if i + 1 < self.num_refine_stages:
                rois = head.refine_bboxes(*outs, rois=rois)

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict:
        """Losses of every stage: ``*_init`` and ``*_refine_{i}`` (the latter times ``stage_loss_weights[i]``).

        Args:
            batch_inputs (Tensor): (N, C, H, W) images.
            batch_data_samples (list[DetDataSample]): Samples with ``gt_instances``.

        Returns:
            dict: The loss components.

        Raises:
            ValueError: If the detector was built without ``train_cfg``.
        """
        if self.train_cfg is None:
            raise ValueError('RefineSingleStageDetector.loss needs train_cfg (init, refine, stage_loss_weights)')
        x = self.extract_feat(batch_inputs)
        batch_gt_instances, batch_gt_instances_ignore, batch_img_metas = unpack_gt_instances(batch_data_samples)
        outs = self.bbox_head_init(x)
        losses = {}
        for key, value in self.bbox_head_init.loss_by_feat(*outs, batch_gt_instances, batch_img_metas,
                                                           batch_gt_instances_ignore).items():
            losses[f'{key}_init' if 'loss' in key and 'init' not in key else key] = value
        rois = self.bbox_head_init.filter_bboxes(*outs)
        for i, outs, stage_rois in self._stages(x, rois):
            weight = self.train_cfg['stage_loss_weights'][i]
            stage = self.bbox_head_refine[i].loss_by_feat(*outs, batch_gt_instances, batch_img_metas,
                                                          batch_gt_instances_ignore, rois=stage_rois)
            for key, value in stage.items():
                if 'loss' in key and 'refine' not in key:
                    losses[f'{key}_refine_{i}'] = _weighted(value, weight)
                else:
                    losses[key] = value
        return losses

    def _last_stage(self, batch_inputs: Tensor):
        x = self.extract_feat(batch_inputs)
        rois = self.bbox_head_init.filter_bboxes(*self.bbox_head_init(x))
        for _, outs, rois in self._stages(x, rois):
            pass
        return outs, rois

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList, rescale: bool = True) -> SampleList:
        """Detections of the last refine head, as ``pred_instances`` (``bboxes`` (n, 5), ``scores``, ``labels``).

        Args:
            batch_inputs (Tensor): (N, C, H, W) images.
            batch_data_samples (list[DetDataSample]): Samples with their metainfo.
            rescale (bool): Boxes in the original image size. Defaults to True.

        Returns:
            list[DetDataSample]: The samples with ``pred_instances``.
        """
        outs, rois = self._last_stage(batch_inputs)
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        predictions = self.bbox_head_refine[-1].predict_by_feat(*outs, rois=rois, batch_img_metas=batch_img_metas,
                                                                rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, predictions)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None) -> Tuple[List[Tensor], ...]:
        """The last refine head's raw outputs (class scores and deltas per level)."""
        return self._last_stage(batch_inputs)[0]
