"""Rotated-box transforms. mmdet's Resize, RandomFlip and RandomCrop already act on rboxes/qboxes
through the box classes' own flip_/rescale_/translate_/clip_, so they are not re-implemented here."""
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import BaseBoxes, get_box_type

from visiondiv.registry import TRANSFORMS
from visiondiv.structures.bbox import RotatedBoxes, qbox2rbox, rbox2qbox


@TRANSFORMS.register_module()
class ConvertBoxType(BaseTransform):
    """Convert boxes in ``results`` to other box types, e.g. ``dict(gt_bboxes='rbox')``."""

    def __init__(self, box_type_mapping: Dict[str, str]) -> None:
        for key, dst in box_type_mapping.items():
            try:
                get_box_type(dst)
            except AssertionError:
                from mmdet.structures.bbox.box_type import box_types
                raise KeyError(f'ConvertBoxType: unknown box type {dst!r} for {key!r}; '
                               f'registered: {sorted(box_types)}') from None
        self.box_type_mapping = box_type_mapping

    def transform(self, results: dict) -> dict:
        for key, dst in self.box_type_mapping.items():
            if key not in results:
                continue
            if not isinstance(results[key], BaseBoxes):
                raise TypeError(f"ConvertBoxType: results['{key}'] is {type(results[key]).__name__}, "
                                "not a box object; load it with LoadAnnotations(box_type=...)")
            results[key] = results[key].convert_to(dst)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(box_type_mapping={self.box_type_mapping})'


def _keep_boxes_inside(results: dict, boxes: BaseBoxes, img_shape) -> None:
    """Store ``boxes`` as gt_bboxes, dropping those whose centre left the image, with their labels and flags."""
    keep = boxes.is_inside(img_shape).numpy()
    results['gt_bboxes'] = boxes[keep]
    for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
        if key in results:
            results[key] = results[key][keep]


def _rotate_image(img: np.ndarray, angle: float, border_value) -> np.ndarray:
    h, w = img.shape[:2]
    # cv2's positive angle turns the image counter-clockwise on screen; ours is clockwise
    matrix = cv2.getRotationMatrix2D(((w - 1) * 0.5, (h - 1) * 0.5), -angle, 1.0)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=border_value)


@TRANSFORMS.register_module()
class RandomRotate(BaseTransform):
    """Rotate image and boxes by a random angle about the image centre, keeping the image size.

    Args:
        prob (float): probability of rotating.
        angle_range (float): angles are drawn uniformly in [-angle_range, angle_range] degrees.
        rect_classes (Sequence[int], optional): labels of objects that must stay axis-aligned
            (e.g. storage tanks, roundabouts in DOTA); if any is present, the angle is drawn
            from {90, 180, -90} instead (mmrotate's ``rect_classes``).
        border_value: fill of the uncovered image area.
    """

    def __init__(self, prob: float = 0.5, angle_range: float = 180, rect_classes: Optional[Sequence[int]] = None,
                 border_value: Union[int, tuple] = 0) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob, self.angle_range = prob, angle_range
        self.rect_classes = set(rect_classes or ())
        self.border_value = border_value

    def _angle(self, results: dict) -> float:
        labels = results.get('gt_bboxes_labels')
        if self.rect_classes and labels is not None and any(int(lb) in self.rect_classes for lb in labels):
            return float(np.random.choice([90, 180, -90]))
        return float(self.angle_range * (2 * np.random.rand() - 1))

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        angle = self._angle(results)
        img = results['img']
        h, w = img.shape[:2]
        results['img'] = _rotate_image(img, angle, self.border_value)
        center = ((w - 1) * 0.5, (h - 1) * 0.5)
        if isinstance(results.get('gt_bboxes'), BaseBoxes):
            boxes = results['gt_bboxes']
            boxes.rotate_(center, angle)
            _keep_boxes_inside(results, boxes, (h, w))
        results['rotate_angle'] = angle
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, angle_range={self.angle_range}, '
                f'rect_classes={sorted(self.rect_classes)})')


@TRANSFORMS.register_module()
class RotatedAlbu(BaseTransform):
    """Albumentations on images with rotated or quadrilateral boxes.

    Each box travels as its 4 corners (albumentations keypoints), so any
    albumentations transform, photometric or geometric, applies; the moved
    corners come back as minimum-area rboxes (or as qboxes when the input
    was qbox). Boxes whose centre leaves the image are dropped.

    Args:
        transforms (list[dict]): albumentations transforms, e.g.
            ``[dict(type='RandomBrightnessContrast', p=0.5), dict(type='Affine', rotate=(-30, 30))]``.
    """

    def __init__(self, transforms: List[dict]) -> None:
        import albumentations as A
        self.transforms_cfg = transforms
        built = []
        for cfg in transforms:
            cfg = dict(cfg)
            name = cfg.pop('type')
            if not hasattr(A, name):
                raise KeyError(f'RotatedAlbu: albumentations has no transform {name!r}')
            built.append(getattr(A, name)(**cfg))
        self.pipeline = A.Compose(built, keypoint_params=A.KeypointParams(format='xy', remove_invisible=False))

    def transform(self, results: dict) -> dict:
        boxes = results.get('gt_bboxes')
        is_rbox = isinstance(boxes, RotatedBoxes)
        corners = np.zeros((0, 2), np.float32)
        if boxes is not None and len(boxes):
            quads = rbox2qbox(boxes.tensor) if is_rbox else boxes.tensor
            corners = quads.reshape(-1, 2).numpy().astype(np.float32)
        out = self.pipeline(image=results['img'], keypoints=corners)
        results['img'] = out['image']
        h, w = out['image'].shape[:2]
        results['img_shape'] = (h, w)
        if boxes is not None and len(boxes):
            quads = torch.as_tensor(np.asarray(out['keypoints'], np.float32).reshape(-1, 8))
            _keep_boxes_inside(results, type(boxes)(qbox2rbox(quads) if is_rbox else quads), (h, w))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transforms_cfg})'
