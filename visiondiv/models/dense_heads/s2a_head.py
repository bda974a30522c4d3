"""S2ANet's heads (mmrotate's ``S2AHead`` and ``S2ARefineHead``, same module names and config fields).

The feature alignment module (``S2AHead``) regresses one rotated box per location from a square anchor;
the oriented detection module (``S2ARefineHead``) aligns the features to those boxes (``frm_cfg``:
``AlignConv``), extracts orientation-sensitive features with an ``ORConv2d`` (regression) and their
rotation-invariant max (classification), and regresses from the boxes as anchors. The box losses follow
:class:`~visiondiv.models.dense_heads.RotatedRetinaHead` (smooth-L1, KLD, KFIoU), in fp32 under autocast.
"""
from typing import List, Tuple

from mmcv.cnn import ConvModule
from torch import Tensor, nn

from visiondiv.registry import MODELS
from ..layers import ORConv2d, RotationInvariantPooling
from .r3_head import Rois, RotatedRefineHead, decode_best_anchors
from .rotated_retina_head import RotatedRetinaHead

#: orientations of the refine head's oriented convolution (mmrotate: arf_config=(1, 8))
N_ORIENTATIONS = 8


@MODELS.register_module()
class S2AHead(RotatedRetinaHead):
    """S2ANet's first stage (feature alignment module): one anchor per location, whose decoded boxes
    :meth:`filter_bboxes` hands to the refine stage.

    Args:
        *args: Positional arguments of :class:`RotatedRetinaHead`.
        **kwargs: Keyword arguments of :class:`RotatedRetinaHead`.

    Raises:
        ValueError: If the anchor generator gives more than one anchor per location.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.num_base_priors != 1:
            raise ValueError(f'S2AHead needs one anchor per location (anchor_generator scales x ratios = 1), '
                             f'got {self.num_base_priors}')

    def filter_bboxes(self, cls_scores: List[Tensor], bbox_preds: List[Tensor]) -> Rois:
        """The box decoded at every location (detached): R3Head's rule with one anchor per location.

        Args:
            cls_scores (list[Tensor]): (N, num_classes, H, W) per level (only checked).
            bbox_preds (list[Tensor]): (N, 5, H, W) per level.

        Returns:
            list[list[Tensor]]: ``rois[img][lvl]``, (H*W, 5) fp32 boxes in row-major location order (decoded in
            fp32 under autocast too), no gradient.
        """
        return decode_best_anchors(self, cls_scores, bbox_preds)


@MODELS.register_module()
class S2ARefineHead(RotatedRefineHead):
    """S2ANet's oriented detection module: ``ORConv2d`` (8 rotations) on the aligned features; the
    regression tower sees the oriented features, the classification tower their max over orientations.

    Args:
        num_classes (int): Number of classes (without background).
        in_channels (int): Input channels.
        frm_cfg (dict): The alignment module, e.g. ``dict(type='AlignConv', feat_channels=256, kernel_size=3,
            strides=[...])``.
        **kwargs: Keyword arguments of :class:`RotatedRetinaHead`; ``feat_channels`` must be a multiple of 8.

    Raises:
        ValueError: If ``feat_channels`` is not a multiple of 8 (or see :class:`RotatedRefineHead`).
    """

    def _init_layers(self) -> None:
        """``or_conv``, ``or_pool``, the towers and the predictors (mmrotate's names)."""
        if self.feat_channels % N_ORIENTATIONS:
            raise ValueError(f'S2ARefineHead: feat_channels must be a multiple of {N_ORIENTATIONS}, '
                             f'got {self.feat_channels}')
        oriented = self.feat_channels // N_ORIENTATIONS
        self.or_conv = ORConv2d(self.in_channels, oriented, kernel_size=3, padding=1,
                                arf_config=(1, N_ORIENTATIONS))
        self.or_pool = RotationInvariantPooling(self.feat_channels, N_ORIENTATIONS)
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        for i in range(self.stacked_convs):
            self.cls_convs.append(ConvModule(oriented if i == 0 else self.feat_channels, self.feat_channels, 3,
                                             padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg))
            self.reg_convs.append(ConvModule(self.feat_channels, self.feat_channels, 3, padding=1,
                                             conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg))
        self.retina_cls = nn.Conv2d(self.feat_channels, self.num_base_priors * self.cls_out_channels, 3, padding=1)
        self.retina_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * self.bbox_coder.encode_size, 3,
                                    padding=1)

    def forward_single(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Class scores (N, num_classes, H, W) and deltas (N, 5, H, W) of one level."""
        reg_feat = self.or_conv(x)
        cls_feat = self.or_pool(reg_feat)
        for cls_conv in self.cls_convs:
            cls_feat = cls_conv(cls_feat)
        for reg_conv in self.reg_convs:
            reg_feat = reg_conv(reg_feat)
        return self.retina_cls(cls_feat), self.retina_reg(reg_feat)

