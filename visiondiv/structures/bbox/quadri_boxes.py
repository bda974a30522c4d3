"""Quadrilateral boxes (``qbox``): the 4 corners (x1, y1, ..., x4, y4)."""
import math
from typing import Tuple, Union

import numpy as np
import torch
from mmdet.structures.bbox import BaseBoxes, register_box
from torch import BoolTensor, Tensor

from .rotated_boxes import RotatedBoxes
from .transforms import rbox2qbox


@register_box('qbox')
class QuadriBoxes(BaseBoxes):
    """Quadrilaterals with ``box_dim`` 8, as in DOTA annotations."""

    box_dim = 8

    @property
    def points(self) -> Tensor:
        """Corners as (..., 4, 2)."""
        return self.tensor.reshape(*self.tensor.shape[:-1], 4, 2)

    @property
    def centers(self) -> Tensor:
        return self.points.mean(-2)

    @property
    def areas(self) -> Tensor:
        """Polygon areas by the shoelace formula."""
        x, y = self.tensor[..., 0::2], self.tensor[..., 1::2]
        return 0.5 * (x * y.roll(-1, -1) - y * x.roll(-1, -1)).sum(-1).abs()

    @property
    def widths(self) -> Tensor:
        """Width of the horizontal bounding box."""
        x = self.tensor[..., 0::2]
        return x.max(-1).values - x.min(-1).values

    @property
    def heights(self) -> Tensor:
        """Height of the horizontal bounding box."""
        y = self.tensor[..., 1::2]
        return y.max(-1).values - y.min(-1).values

    def flip_(self, img_shape: Tuple[int, int], direction: str = 'horizontal') -> None:
        if direction not in ('horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'unknown flip direction {direction!r}')
        if direction in ('horizontal', 'diagonal'):
            self.tensor[..., 0::2] = img_shape[1] - self.tensor[..., 0::2]
        if direction in ('vertical', 'diagonal'):
            self.tensor[..., 1::2] = img_shape[0] - self.tensor[..., 1::2]

    def translate_(self, distances: Tuple[float, float]) -> None:
        assert len(distances) == 2
        self.tensor += self.tensor.new_tensor(distances).repeat(4)

    def clip_(self, img_shape: Tuple[int, int]) -> None:
        """Leave the quads unchanged (mmrotate 1.x), as :meth:`RotatedBoxes.clip_` does.

        Clamping corners would deform a border-crossing object; boxes whose
        centre left the image are dropped by ``is_inside`` instead.
        """

    def rotate_(self, center: Tuple[float, float], angle: float) -> None:
        """Rotate about ``center`` by ``angle`` degrees, clockwise for positive values."""
        rad = math.radians(angle)
        rot = self.tensor.new_tensor([[math.cos(rad), -math.sin(rad)],
                                      [math.sin(rad), math.cos(rad)]])
        ctr = self.tensor.new_tensor(center)
        pts = (self.points - ctr) @ rot.T + ctr
        self.tensor = pts.flatten(-2)

    def project_(self, homography_matrix: Union[Tensor, np.ndarray]) -> None:
        m = self.tensor.new_tensor(np.asarray(homography_matrix) if not isinstance(
            homography_matrix, Tensor) else homography_matrix)
        pts = self.points
        homo = torch.cat([pts, pts.new_ones(*pts.shape[:-1], 1)], -1) @ m.T
        self.tensor = (homo[..., :2] / homo[..., 2:3]).flatten(-2)

    def rescale_(self, scale_factor: Tuple[float, float]) -> None:
        self.tensor *= self.tensor.new_tensor(scale_factor).repeat(4)

    def resize_(self, scale_factor: Tuple[float, float]) -> None:
        """Scale about each quad's centre."""
        ctr = self.centers[..., None, :]
        pts = (self.points - ctr) * self.tensor.new_tensor(scale_factor) + ctr
        self.tensor = pts.flatten(-2)

    def is_inside(self, img_shape: Tuple[int, int], all_inside: bool = False,
                  allowed_border: int = 0) -> BoolTensor:
        """Quads whose centre (or, with ``all_inside``, every corner) lies inside the image."""
        h, w = img_shape
        pts = self.points if all_inside else self.centers[..., None, :]
        ok = (pts[..., 0] >= -allowed_border) & (pts[..., 0] <= w + allowed_border) & \
             (pts[..., 1] >= -allowed_border) & (pts[..., 1] <= h + allowed_border)
        return ok.all(-1)

    def find_inside_points(self, points: Tensor, is_aligned: bool = False) -> BoolTensor:
        """Points inside convex quads (either winding): (m, n), or (m,) aligned."""
        pts = self.points
        assert pts.dim() == 3, 'boxes must be (n, 8)'
        if not is_aligned:
            pts, points = pts[None], points[:, None]
        p = points[..., None, :]                                    # (..., 1, 2)
        a, b = pts, pts.roll(-1, -2)
        cross = (b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1]) - \
                (b[..., 1] - a[..., 1]) * (p[..., 0] - a[..., 0])
        return (cross >= 0).all(-1) | (cross <= 0).all(-1)

    @staticmethod
    def overlaps(boxes1: BaseBoxes, boxes2: BaseBoxes, mode: str = 'iou',
                 is_aligned: bool = False, eps: float = 1e-6) -> Tensor:
        """Quadrilateral IoU/IoF (mmcv ``box_iou_quadri``)."""
        from mmcv.ops import box_iou_quadri
        return box_iou_quadri(boxes1.tensor.float(), boxes2.tensor.float(), mode, is_aligned)

    @staticmethod
    def from_instance_masks(masks) -> 'QuadriBoxes':
        """Corners of the minimum-area rectangles of instance masks."""
        return QuadriBoxes(rbox2qbox(RotatedBoxes.from_instance_masks(masks).tensor))
