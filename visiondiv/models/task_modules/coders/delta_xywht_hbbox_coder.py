"""Delta coder from horizontal anchors to rotated boxes (mmrotate's ``DeltaXYWHTHBBoxCoder``)."""
from typing import Optional, Sequence, Union

from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from torch import Tensor

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, check_angle_version, hbox2rbox, regularize_rboxes
from .delta_xywht_rbbox_coder import delta2rbox, rbox2delta


@TASK_UTILS.register_module()
class DeltaXYWHTHBBoxCoder(BaseBBoxCoder):
    """Encode rotated boxes as (dx, dy, dw, dh, t) against horizontal anchors (x1, y1, x2, y2).

    The anchors are taken as rotated boxes at angle 0, so the angle is
    regressed absolutely and encoding/decoding are
    :class:`DeltaXYWHTRBBoxCoder`'s (without ``proj_xy``, which is the
    identity at angle 0). As mmrotate's, ``decode`` ignores ``max_shape``;
    ``clip_border`` is kept for config compatibility. Other arguments as
    :class:`DeltaXYWHTRBBoxCoder`.

    Args:
        target_means (Sequence[float]): Means of the five deltas, subtracted after encoding.
            Defaults to ``(0., 0., 0., 0., 0.)``.
        target_stds (Sequence[float]): Standard deviations of the five deltas, divided by after encoding.
            Defaults to ``(1., 1., 1., 1., 1.)``.
        angle_version (str): Angle definition of the targets and decoded boxes, ``'oc'``, ``'le90'`` or
            ``'le135'``. Defaults to ``'oc'``.
        norm_factor (float, optional): t is divided by ``norm_factor * pi``; None (or 0) for no division.
            Defaults to None.
        edge_swap (bool): Regress the smaller of the two equivalent angle deltas (w/h swapped for the other)
            and put the long edge first after decoding. Defaults to False.
        clip_border (bool): Kept for config compatibility; nothing is clipped. Defaults to True.
        add_ctr_clamp (bool): Clamp the decoded centre shift to +-``ctr_clamp`` (YOLOF style).
            Defaults to False.
        ctr_clamp (int): The centre shift bound, in pixels, with ``add_ctr_clamp``. Defaults to 32.
        use_box_type (bool): Decode to ``RotatedBoxes`` rather than a tensor. Defaults to True.

    Raises:
        ValueError: If ``angle_version`` is not one of ``'oc'``, ``'le90'``, ``'le135'``.
    """
    encode_size = 5

    def __init__(self, target_means: Sequence[float] = (0., 0., 0., 0., 0.),
                 target_stds: Sequence[float] = (1., 1., 1., 1., 1.), angle_version: str = 'oc',
                 norm_factor: Optional[float] = None, edge_swap: bool = False, clip_border: bool = True,
                 add_ctr_clamp: bool = False, ctr_clamp: int = 32, use_box_type: bool = True) -> None:
        super().__init__(use_box_type=use_box_type)
        check_angle_version(angle_version, 'DeltaXYWHTHBBoxCoder')
        self.means, self.stds = target_means, target_stds
        self.angle_version, self.norm_factor = angle_version, norm_factor
        self.edge_swap, self.clip_border = edge_swap, clip_border
        self.add_ctr_clamp, self.ctr_clamp = add_ctr_clamp, ctr_clamp

    def encode(self, bboxes: Union[HorizontalBoxes, Tensor], gt_bboxes: Union[RotatedBoxes, Tensor]) -> Tensor:
        """Deltas that turn horizontal anchors ``bboxes`` (n, 4) into ``gt_bboxes`` (n, 5)."""
        anchors = get_box_tensor(bboxes).float()
        gts = regularize_rboxes(get_box_tensor(gt_bboxes).float(), self.angle_version)
        if anchors.size(-1) != 4 or gts.size(-1) != 5 or anchors.size(0) != gts.size(0):
            raise ValueError(f'encode needs (n, 4) anchors and (n, 5) targets, got {tuple(anchors.shape)} '
                             f'and {tuple(gts.shape)}')
        return rbox2delta(hbox2rbox(anchors), gts, self.means, self.stds, self.angle_version, self.norm_factor,
                          self.edge_swap)

    def decode(self, bboxes: Union[HorizontalBoxes, Tensor], pred_bboxes: Tensor,
               max_shape: Optional[Sequence[int]] = None,
               wh_ratio_clip: float = 16 / 1000) -> Union[RotatedBoxes, Tensor]:
        """Apply deltas (n, 5k) to horizontal anchors (n, 4); ``max_shape`` is not applied (as mmrotate)."""
        return delta2rbox(hbox2rbox(get_box_tensor(bboxes)), pred_bboxes, self.means, self.stds,
                          self.angle_version, self.norm_factor, self.edge_swap, proj_xy=False,
                          add_ctr_clamp=self.add_ctr_clamp, ctr_clamp=self.ctr_clamp, max_shape=None,
                          wh_ratio_clip=wh_ratio_clip, use_box_type=self.use_box_type)
