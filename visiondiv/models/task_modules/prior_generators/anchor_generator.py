"""Anchor generators that return rotated anchors (``RotatedBoxes``)."""
import math
from typing import List, Sequence

import torch
from mmdet.models.task_modules import AnchorGenerator
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from torch.nn.modules.utils import _pair

from visiondiv.registry import TASK_UTILS
from visiondiv.structures.bbox import RotatedBoxes, hbox2rbox, regularize_rboxes


@TASK_UTILS.register_module()
class FakeRotatedAnchorGenerator(AnchorGenerator):
    """mmdet's horizontal anchors, returned as rboxes (angle 0, regularised by ``angle_version``).

    Args:
        angle_version (str): Angle definition the anchors are regularised to, ``'oc'``, ``'le90'`` or
            ``'le135'``; a false value (None, ``''``) leaves them as they are. Defaults to ``'oc'``.
        **kwargs: Arguments of mmdet's ``AnchorGenerator`` (``strides``, ``ratios``, ``scales``,
            ``base_sizes``, ``octave_base_scale``, ``scales_per_octave``...).
    """

    def __init__(self, angle_version: str = 'oc', **kwargs) -> None:
        super().__init__(**kwargs)
        self.angle_version = angle_version

    def single_level_grid_priors(self, featmap_size, level_idx, dtype=torch.float32,
                                 device='cuda') -> RotatedBoxes:
        anchors = super().single_level_grid_priors(featmap_size, level_idx, dtype=dtype, device=device)
        rboxes = hbox2rbox(get_box_tensor(anchors))
        if self.angle_version:
            rboxes = regularize_rboxes(rboxes, self.angle_version)
        return RotatedBoxes(rboxes, clone=False)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f'    angle_version={self.angle_version})'


@TASK_UTILS.register_module()
class RotatedAnchorGenerator(AnchorGenerator):
    """True rotated anchors: every horizontal base anchor repeated at each of ``angles`` (radians).

    At each location the anchors come base anchor by base anchor, each at every angle in turn;
    ``num_base_priors`` counts base anchors x angles.

    Args:
        angles (Sequence[float], optional): Anchor angles in radians; None for 0, pi/6, ..., 5pi/6.
            Defaults to None.
        angle_version (str): Regularisation applied to the anchors (``'oc'``, ``'le90'`` or ``'le135'``).
            Defaults to ``'le90'``.
        **kwargs: Arguments of mmdet's ``AnchorGenerator`` (``strides``, ``ratios``, ``scales``,
            ``base_sizes``...); ``use_box_type`` defaults to False here (the grid priors are
            ``RotatedBoxes`` either way).
    """

    def __init__(self, angles: Sequence[float] = None, angle_version: str = 'le90', **kwargs) -> None:
        self.angles = list(angles) if angles is not None else [i * math.pi / 6 for i in range(6)]
        self.angle_version = angle_version
        kwargs.setdefault('use_box_type', False)
        super().__init__(**kwargs)

    @property
    def num_base_priors(self) -> List[int]:
        return [base.size(0) * len(self.angles) for base in self.base_anchors]

    def single_level_grid_priors(self, featmap_size, level_idx, dtype=torch.float32,
                                 device='cuda') -> RotatedBoxes:
        hboxes = super().single_level_grid_priors(featmap_size, level_idx, dtype=dtype, device=device)
        hboxes = get_box_tensor(hboxes) if isinstance(hboxes, HorizontalBoxes) else hboxes
        rboxes = hbox2rbox(hboxes)                                          # (K*A, 5)
        angles = rboxes.new_tensor(self.angles)
        rboxes = rboxes[:, None, :].repeat(1, len(self.angles), 1)          # (K*A, T, 5)
        rboxes[..., 4] = angles
        rboxes = regularize_rboxes(rboxes.reshape(-1, 5), self.angle_version)
        return RotatedBoxes(rboxes, clone=False)

    def single_level_valid_flags(self, featmap_size, valid_size, num_base_anchors, device='cuda'):
        flags = super().single_level_valid_flags(featmap_size, valid_size,
                                                 num_base_anchors // len(self.angles), device)
        return flags[:, None].repeat(1, len(self.angles)).reshape(-1)


@TASK_UTILS.register_module()
class PseudoRotatedAnchorGenerator(AnchorGenerator):
    """Valid flags only, one prior per location: the anchors of a refine head are the boxes of the stage before.

    mmrotate's refine heads (``R3RefineHead``, ``S2ARefineHead``) take their anchors from the previous
    stage's boxes (one per feature-map location); this generator only provides ``num_base_priors``
    (1 per level) and mmdet's ``valid_flags`` for those locations. It generates no anchors itself.

    Args:
        strides (Sequence[int | tuple[int, int]]): Feature-map strides, one per level.
    """

    def __init__(self, strides: Sequence) -> None:
        # no AnchorGenerator.__init__: there are no base anchors
        self.strides = [_pair(stride) for stride in strides]
        self.use_box_type = False

    @property
    def num_base_priors(self) -> List[int]:
        """One prior per location on every level."""
        return [1 for _ in self.strides]

    def grid_priors(self, *args, **kwargs):
        """Not available: the anchors of a refine head are the previous stage's boxes.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError('PseudoRotatedAnchorGenerator generates valid flags only; a refine head takes '
                                  'its anchors from the previous stage (rois)')

    single_level_grid_priors = grid_priors

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(strides={self.strides})'
