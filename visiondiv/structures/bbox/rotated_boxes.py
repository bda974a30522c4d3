"""Rotated boxes (``rbox``): (cx, cy, w, h, t), t in radians, clockwise in image coordinates."""
import math
from typing import Optional, Tuple, Union

import cv2
import numpy as np
import torch
from mmdet.structures.bbox import BaseBoxes, register_box
from torch import BoolTensor, Tensor

from .angle import regularize_rboxes
from .bbox_overlaps import rbbox_overlaps
from .transforms import min_area_rect, qbox2rbox, rbox2qbox


@register_box('rbox')
class RotatedBoxes(BaseBoxes):
    """Rotated boxes with ``box_dim`` 5: (cx, cy, w, h, t).

    t is in radians; the box is the horizontal box (cx, cy, w, h) turned
    clockwise by t about its centre (image y axis points down).
    """

    box_dim = 5

    def regularize_boxes(self, pattern: Optional[str] = None, width_longer: bool = True,
                         start_angle: float = -90) -> Tensor:
        """Make each box's parameters unique, in place; mmrotate's signature.

        ``pattern`` ('oc', 'le90', 'le135') overrides ``width_longer`` and
        ``start_angle`` (degrees); the defaults give 'le90'. See
        :func:`~visiondiv.structures.bbox.regularize_rboxes`.
        """
        self.tensor = regularize_rboxes(self.tensor, pattern, width_longer, start_angle)
        return self.tensor

    @property
    def centers(self) -> Tensor:
        return self.tensor[..., :2]

    @property
    def areas(self) -> Tensor:
        return self.tensor[..., 2] * self.tensor[..., 3]

    @property
    def widths(self) -> Tensor:
        return self.tensor[..., 2]

    @property
    def heights(self) -> Tensor:
        return self.tensor[..., 3]

    def flip_(self, img_shape: Tuple[int, int], direction: str = 'horizontal') -> None:
        """Flip in place; ``direction`` in horizontal, vertical, diagonal."""
        if direction not in ('horizontal', 'vertical', 'diagonal'):
            raise ValueError(f'unknown flip direction {direction!r}')
        boxes = self.tensor
        if direction in ('horizontal', 'diagonal'):
            boxes[..., 0] = img_shape[1] - boxes[..., 0]
        if direction in ('vertical', 'diagonal'):
            boxes[..., 1] = img_shape[0] - boxes[..., 1]
        if direction != 'diagonal':
            # a mirror reverses the sense of rotation; a diagonal flip is a half turn
            boxes[..., 4] = -boxes[..., 4]

    def translate_(self, distances: Tuple[float, float]) -> None:
        assert len(distances) == 2
        self.tensor[..., :2] += self.tensor.new_tensor(distances)

    def clip_(self, img_shape: Tuple[int, int]) -> None:
        """Leave the boxes unchanged (mmrotate 1.x): a rotated box is not cut at the image border.

        Shrinking a border-crossing box to its in-image part would change the
        ground truth that mmdet's ``Resize``/``RandomCrop`` hand on (they call
        ``clip_`` when ``clip_object_border``/``bbox_clip_border`` is set);
        boxes whose centre left the image are dropped by ``is_inside`` instead.
        """

    def rotate_(self, center: Tuple[float, float], angle: float) -> None:
        """Rotate about ``center`` by ``angle`` degrees, clockwise for positive values."""
        boxes = self.tensor
        rad = math.radians(angle)
        c, s = math.cos(rad), math.sin(rad)
        dx = boxes[..., 0] - center[0]
        dy = boxes[..., 1] - center[1]
        new = boxes.clone()
        new[..., 0] = center[0] + c * dx - s * dy
        new[..., 1] = center[1] + s * dx + c * dy
        new[..., 4] = boxes[..., 4] + rad
        self.tensor = new

    def project_(self, homography_matrix: Union[Tensor, np.ndarray]) -> None:
        """Apply a 3x3 homography to the corners, then take the minimum-area rbox."""
        m = self.tensor.new_tensor(np.asarray(homography_matrix) if not isinstance(
            homography_matrix, Tensor) else homography_matrix)
        corners = rbox2qbox(self.tensor).reshape(*self.tensor.shape[:-1], 4, 2)
        homo = torch.cat([corners, corners.new_ones(*corners.shape[:-1], 1)], -1)
        proj = homo @ m.T
        proj = proj[..., :2] / proj[..., 2:3]
        self.tensor = qbox2rbox(proj.flatten(-2), 'le90')

    def rescale_(self, scale_factor: Tuple[float, float]) -> None:
        """Scale centres and shapes by (sx, sy).

        Anisotropic scaling shears a rotated box; the result keeps the scaled
        lengths of both edges and the direction of the scaled w edge.
        """
        sx, sy = scale_factor
        boxes = self.tensor
        if sx == sy:
            boxes[..., :4] *= sx
            return
        c, s = torch.cos(boxes[..., 4]), torch.sin(boxes[..., 4])
        new = boxes.clone()
        new[..., 0] = boxes[..., 0] * sx
        new[..., 1] = boxes[..., 1] * sy
        new[..., 2] = boxes[..., 2] * torch.hypot(sx * c, sy * s)
        new[..., 3] = boxes[..., 3] * torch.hypot(sx * s, sy * c)
        new[..., 4] = torch.atan2(sy * s, sx * c)
        self.tensor = new

    def resize_(self, scale_factor: Tuple[float, float]) -> None:
        """Scale w and h about the centre, keeping the angle."""
        self.tensor[..., 2:4] *= self.tensor.new_tensor(scale_factor)

    def is_inside(self, img_shape: Tuple[int, int], all_inside: bool = False,
                  allowed_border: int = 0) -> BoolTensor:
        """Boxes whose centre (or, with ``all_inside``, every corner) lies inside the image.

        The centre test is mmrotate's (what ``RandomCrop``/``RandomRotate`` keep);
        mmrotate ignores ``all_inside``, here it keeps mmdet's meaning.
        """
        h, w = img_shape
        pts = rbox2qbox(self.tensor).reshape(*self.tensor.shape[:-1], 4, 2) if all_inside \
            else self.tensor[..., None, :2]
        ok = (pts[..., 0] >= -allowed_border) & (pts[..., 0] <= w + allowed_border) & \
             (pts[..., 1] >= -allowed_border) & (pts[..., 1] <= h + allowed_border)
        return ok.all(-1)

    def find_inside_points(self, points: Tensor, is_aligned: bool = False,
                           eps: float = 0.01) -> BoolTensor:
        """Points strictly inside boxes: (m, n) for m points and n boxes, or (m,) aligned."""
        boxes = self.tensor
        assert boxes.dim() == 2, 'boxes must be (n, 5)'
        if not is_aligned:
            boxes, points = boxes[None], points[:, None]
        offset = points - boxes[..., :2]
        c, s = torch.cos(boxes[..., 4]), torch.sin(boxes[..., 4])
        u = c * offset[..., 0] + s * offset[..., 1]
        v = -s * offset[..., 0] + c * offset[..., 1]
        return (u.abs() <= boxes[..., 2] / 2 - eps) & (v.abs() <= boxes[..., 3] / 2 - eps)

    @staticmethod
    def overlaps(boxes1: BaseBoxes, boxes2: BaseBoxes, mode: str = 'iou',
                 is_aligned: bool = False, eps: float = 1e-6) -> Tensor:
        """Rotated IoU/IoF between two sets of boxes (mmcv ``box_iou_rotated``)."""
        return rbbox_overlaps(boxes1.tensor, boxes2.tensor, mode, is_aligned)

    @staticmethod
    def from_instance_masks(masks) -> 'RotatedBoxes':
        """Minimum-area rboxes of bitmap or polygon instance masks."""
        from mmdet.structures.mask import BitmapMasks, PolygonMasks
        rboxes = []
        if isinstance(masks, BitmapMasks):
            for mask in masks.masks:
                coor_y, coor_x = np.nonzero(mask)
                pts = np.stack([coor_x, coor_y], -1).astype(np.float32)
                rboxes.append(rbox_from_points(pts) if len(pts) else np.zeros(5, np.float32))
        elif isinstance(masks, PolygonMasks):
            for poly_per_obj in masks.masks:
                pts = np.concatenate(poly_per_obj).reshape(-1, 2).astype(np.float32)
                rboxes.append(rbox_from_points(pts))
        else:
            raise TypeError(f'expected BitmapMasks or PolygonMasks, got {type(masks)}')
        return RotatedBoxes(np.stack(rboxes) if rboxes else np.zeros((0, 5), np.float32))


def rbox_from_points(points: np.ndarray) -> np.ndarray:
    """Minimum-area rbox (le90) of an arbitrary 2-D point set: candidate sides are its convex hull edges.

    Args:
        points (np.ndarray): Points (k, 2), (x, y) pixel coordinates.

    Returns:
        np.ndarray: float32 (5,): cx, cy, w, h, t in le90 (t in radians); a hull of one point gives the
        point with w = h = t = 0.
    """
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if len(hull) < 2:
        return np.array([*hull.mean(0), 0, 0, 0], dtype=np.float32)
    edges = np.roll(hull, -1, 0) - hull
    theta = torch.from_numpy(np.arctan2(edges[:, 1], edges[:, 0]))[None]
    box = min_area_rect(torch.from_numpy(hull)[None], theta)
    return regularize_rboxes(box, 'le90')[0].numpy().astype(np.float32)
