"""RoI feature extractor for rotated RoIs (mmrotate's ``RotatedSingleRoIExtractor``) on mmcv's ``RoIAlignRotated``."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmcv import ops
from mmdet.models.roi_heads.roi_extractors.base_roi_extractor import BaseRoIExtractor
from torch import Tensor, nn

from visiondiv.registry import MODELS

#: mmcv ops that pool rotated RoIs (b, cx, cy, w, h, t)
ROTATED_ROI_LAYERS = ('RoIAlignRotated', 'RiRoIAlignRotated')


@MODELS.register_module()
class RotatedSingleRoIExtractor(BaseRoIExtractor):
    """Pool each rotated RoI from one FPN level, chosen by its scale (FPN's rule, as mmrotate).

    A RoI of scale s = sqrt(w h) goes to level floor(log2(s / finest_scale + 1e-6)), clamped to the
    levels there are: below 2 ``finest_scale`` level 0, below 4 level 1, and so on.

    Args:
        roi_layer (dict): The mmcv op and its arguments, one of :data:`ROTATED_ROI_LAYERS` (e.g.
            ``dict(type='RoIAlignRotated', out_size=7, sample_num=2, clockwise=True)``).
        out_channels (int): Channels of the features.
        featmap_strides (Sequence[int]): Strides of the input levels; ``spatial_scale`` of each op is 1 / stride.
        finest_scale (int): Scale of level 0's upper half. Defaults to 56.
        init_cfg (dict or list[dict], optional): Initialisation config. Defaults to None.

    Raises:
        ValueError: A ``roi_layer`` that is not a rotated op (naming ``roi_layer``).
    """

    #: the box type of the RoIs this extractor pools (read by the config check)
    roi_box_type = 'rbox'

    def __init__(self, roi_layer: dict, out_channels: int, featmap_strides: Sequence[int], finest_scale: int = 56,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(roi_layer=roi_layer, out_channels=out_channels, featmap_strides=list(featmap_strides),
                         init_cfg=init_cfg)
        self.finest_scale = finest_scale

    def build_roi_layers(self, layer_cfg: dict, featmap_strides: List[int]) -> nn.ModuleList:
        """One mmcv rotated RoI op per level, with ``spatial_scale`` 1 / stride.

        Raises:
            ValueError: ``layer_cfg['type']`` is not one of :data:`ROTATED_ROI_LAYERS`.
        """
        cfg = dict(layer_cfg)
        layer_type = cfg.pop('type', None)
        if layer_type not in ROTATED_ROI_LAYERS:
            raise ValueError(f"RotatedSingleRoIExtractor: roi_layer.type={layer_type!r} does not pool rotated RoIs; "
                             f"use one of {ROTATED_ROI_LAYERS} (mmdet.SingleRoIExtractor takes horizontal ones)")
        layer_cls = getattr(ops, layer_type)
        return nn.ModuleList([layer_cls(spatial_scale=1 / s, **cfg) for s in featmap_strides])

    @property
    def output_size(self) -> Tuple[int, int]:
        """(h, w) of the pooled features."""
        layer = self.roi_layers[0]
        size = getattr(layer, 'output_size', None) or getattr(layer, 'out_size')
        return tuple(nn.modules.utils._pair(size))

    def map_roi_levels(self, rois: Tensor, num_levels: int) -> Tensor:
        """Level index (k,) of each RoI (k, 6) by its scale sqrt(w h) (see the class docstring)."""
        scale = torch.sqrt(rois[:, 3] * rois[:, 4])
        target_lvls = torch.floor(torch.log2(scale / self.finest_scale + 1e-6))
        return target_lvls.clamp(min=0, max=num_levels - 1).long()

    def roi_rescale(self, rois: Tensor, scale_factor: Union[float, Sequence[float]]) -> Tensor:
        """RoIs (k, 6) with w scaled by the second and h by the first of ``scale_factor`` (a number: both)."""
        if scale_factor is None:
            return rois
        h_scale, w_scale = nn.modules.utils._pair(scale_factor)
        new_rois = rois.clone()
        new_rois[:, 3] = w_scale * new_rois[:, 3]
        new_rois[:, 4] = h_scale * new_rois[:, 4]
        return new_rois

    def _pool(self, level: int, feat: Tensor, rois: Tensor) -> Tensor:
        """``roi_layers[level]`` of ``rois`` on ``feat``. mmcv's kernels take no bf16 (CPU or CUDA) and no fp16 on
        CPU: such features (bf16 AMP, CPU autocast) are pooled in fp32 (with the fp32 RoIs) and cast back; only
        the native kernel (e.g. CUDA fp16) gets the RoIs in the features' dtype."""
        if feat.dtype == torch.bfloat16 or (feat.device.type == 'cpu' and feat.dtype == torch.float16):
            return self.roi_layers[level](feat.float(), rois.float()).to(feat.dtype)
        return self.roi_layers[level](feat, rois.type_as(feat))

    def forward(self, feats: Tuple[Tensor, ...], rois: Tensor, roi_scale_factor: Optional[float] = None) -> Tensor:
        """Features (k, out_channels, *output_size) of RoIs (k, 6): (batch index, cx, cy, w, h, t).

        Raises:
            ValueError: RoIs that are not (k, 6), e.g. horizontal (b, x1, y1, x2, y2).
        """
        if rois.dim() != 2 or rois.size(-1) != 6:
            raise ValueError(f'RotatedSingleRoIExtractor needs rotated RoIs (k, 6) laid out as (b, cx, cy, w, h, θ), '
                             f'got shape {tuple(rois.shape)}; horizontal (b, x1, y1, x2, y2) RoIs come from an RPN '
                             'proposing hboxes: use OrientedRPNHead, or mmdet.SingleRoIExtractor')
        # fp16/bf16 features: the RoIs stay fp32 for the level mapping and the fp32 pooling (a bf16 RoI can be
        # several pixels off, and change level); :meth:`_pool` casts them for a native fp16 kernel
        low = feats[0].dtype in (torch.float16, torch.bfloat16)
        rois = rois.float() if low else rois.type_as(feats[0])
        num_levels = len(feats)
        roi_feats = feats[0].new_zeros(rois.size(0), self.out_channels, *self.output_size)
        if num_levels == 1:
            return roi_feats if len(rois) == 0 else self._pool(0, feats[0], rois)
        target_lvls = self.map_roi_levels(rois, num_levels)
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        for i in range(num_levels):
            inds = (target_lvls == i).nonzero(as_tuple=False).squeeze(1)
            if inds.numel() > 0:
                roi_feats[inds] = self._pool(i, feats[i], rois[inds]).to(roi_feats.dtype)
            else:  # keeps every level in the graph (distributed training needs a gradient for each)
                roi_feats = roi_feats + feats[i].sum() * 0.
        return roi_feats
