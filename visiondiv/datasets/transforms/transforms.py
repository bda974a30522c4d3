"""Rotated-box transforms. mmdet's Resize, RandomFlip and RandomCrop already act on rboxes/qboxes
through the box classes' own flip_/rescale_/translate_/clip_, so they are not re-implemented here."""
import warnings
from typing import Dict, List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.structures.bbox import BaseBoxes, get_box_type
from mmdet.structures.mask import PolygonMasks

from visiondiv.registry import TRANSFORMS
from visiondiv.structures.bbox import RotatedBoxes, qbox2rbox, rbox2qbox


@TRANSFORMS.register_module()
class ConvertBoxType(BaseTransform):
    """Convert boxes in ``results`` to other box types, e.g. ``dict(gt_bboxes='rbox')``.

    A key absent from ``results`` is skipped; a present one must hold a box object (``BaseBoxes``, as
    ``LoadAnnotations(box_type=...)`` gives).

    Args:
        box_type_mapping (Dict[str, str]): result key -> registered box type to convert to
            (``'rbox'``, ``'qbox'``, ``'hbox'``...).

    Raises:
        KeyError: an unregistered box type (listing the registered ones).
    """

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
    """Store ``boxes`` as gt_bboxes, dropping those whose centre left the image, with their labels, flags, masks."""
    keep = boxes.is_inside(img_shape).numpy()
    results['gt_bboxes'] = boxes[keep]
    for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
        if key in results:
            results[key] = results[key][keep]
    if results.get('gt_masks') is not None:
        results['gt_masks'] = results['gt_masks'][keep.nonzero()[0]]


#: the interpolations of ``mmcv.imrotate`` (cv2 backend)
INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')
#: the angles that keep an axis-aligned box axis-aligned (mmrotate's ``horizontal_angles``)
HORIZONTAL_ANGLES = (90, 180, -90, -180)


def _check_labels(name: str, labels: Optional[Sequence[int]]) -> Optional[List[int]]:
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or \
            not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        raise TypeError(f'{name}: rect_obj_labels must be a list of int labels, got {labels!r}')
    return [int(v) for v in labels]


def _has_rect_objects(results: dict, rect_obj_labels: Optional[List[int]]) -> bool:
    labels = results.get('gt_bboxes_labels')
    return bool(rect_obj_labels) and labels is not None and bool(np.isin(np.asarray(labels), rect_obj_labels).any())


@TRANSFORMS.register_module()
class Rotate(BaseTransform):
    """Rotate image, boxes, masks and segmentation map by a fixed angle about the image centre.

    mmrotate 1.x's ``Rotate`` with its arguments (what ``RandomRotate``'s and ``RandomChoiceRotate``'s default
    ``rotate_type`` builds). The image size is kept; the boxes are clipped to the image (``clip_``: the envelope of
    turned ``HorizontalBoxes`` is cut at the border, rotated boxes and quads are left whole) and those whose centre
    leaves the image are dropped with their labels, ignore flags and masks. Pixels turn about the centre of the
    pixel grid, ``((w - 1) / 2, (h - 1) / 2)`` in pixel indices (``mmcv.imrotate``'s); boxes and polygon masks,
    whose coordinates are mmdet's (pixel ``i`` spans ``[i, i + 1)``), about the same point in their coordinates,
    ``(w / 2, h / 2)``, as mmrotate's boxes; so a box drawn on the image stays on its pixels (``homography_matrix``
    records that map of box coordinates; mmrotate records the pixel-index one, half a pixel apart).

    Args:
        rotate_angle (float): degrees, clockwise on screen for positive values.
        img_border_value (int | float | tuple): fill of the uncovered image area: a number (used for all
            3 channels) or a 3-tuple. Defaults to 0.
        mask_border_value (int): fill of the uncovered area of bitmap masks. Defaults to 0.
        seg_ignore_label (int): fill of the uncovered area of ``gt_seg_map`` (rotated with nearest
            interpolation). Defaults to 255.
        interpolation (str): ``mmcv.imrotate`` interpolation of the image and bitmap masks: ``'nearest'``,
            ``'bilinear'``, ``'bicubic'``, ``'area'`` or ``'lanczos'``. Defaults to ``'bilinear'``.

    Raises:
        TypeError: ``rotate_angle``, ``mask_border_value`` or ``seg_ignore_label`` not a number, naming it.
        ValueError: ``img_border_value`` neither a number nor a 3-tuple / 3-list, or an unknown
            ``interpolation``, naming it.
    """

    def __init__(self, rotate_angle: float, img_border_value: Union[int, float, tuple] = 0,
                 mask_border_value: int = 0, seg_ignore_label: int = 255, interpolation: str = 'bilinear') -> None:
        for key, value in (('rotate_angle', rotate_angle), ('mask_border_value', mask_border_value),
                           ('seg_ignore_label', seg_ignore_label)):
            if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
                raise TypeError(f'Rotate: {key} must be a number, got {value!r}')
        if isinstance(img_border_value, (int, float, np.number)) and not isinstance(img_border_value, bool):
            img_border_value = (float(img_border_value),) * 3   # cv2 fills only channel 0 with a scalar
        elif isinstance(img_border_value, (tuple, list)) and len(img_border_value) == 3:
            img_border_value = tuple(float(v) for v in img_border_value)
        else:
            raise ValueError(f'Rotate: img_border_value must be a number or a 3-tuple, got {img_border_value!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'Rotate: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}')
        self.rotate_angle = rotate_angle
        self.img_border_value, self.mask_border_value = img_border_value, mask_border_value
        self.seg_ignore_label, self.interpolation = seg_ignore_label, interpolation

    def transform(self, results: dict) -> dict:
        angle = float(self.rotate_angle)
        h, w = results['img'].shape[:2]
        pixel_centre = ((w - 1) * 0.5, (h - 1) * 0.5)      # in pixel indices (mmcv.imrotate's)
        box_centre = (w * 0.5, h * 0.5)                      # the same point in box coordinates
        # cv2 turns counter-clockwise for a positive angle; ours (and mmcv.imrotate's) is clockwise
        matrix = np.vstack([cv2.getRotationMatrix2D(box_centre, -angle, 1.0), [0, 0, 1]]).astype(np.float32)
        prev = results.get('homography_matrix')
        results['homography_matrix'] = matrix if prev is None else matrix @ prev
        results['img'] = mmcv.imrotate(results['img'], angle, center=pixel_centre,
                                       border_value=self.img_border_value, interpolation=self.interpolation)
        if results.get('gt_masks') is not None:
            masks = results['gt_masks']
            results['gt_masks'] = masks.rotate(
                (h, w), angle, center=box_centre if isinstance(masks, PolygonMasks) else pixel_centre,
                border_value=self.mask_border_value, interpolation=self.interpolation)
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = mmcv.imrotate(results['gt_seg_map'], angle, center=pixel_centre,
                                                  border_value=self.seg_ignore_label, interpolation='nearest')
        if isinstance(results.get('gt_bboxes'), BaseBoxes):
            boxes = results['gt_bboxes']
            if len(boxes):
                boxes.rotate_(box_centre, angle)
                # as mmrotate: the envelope of a turned HorizontalBoxes is clipped to the image; rotated boxes and
                # quads keep their geometry (their clip_ is a no-op)
                boxes.clip_((h, w))
                _keep_boxes_inside(results, boxes, (h, w))
        results['rotate_angle'] = angle
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(rotate_angle={self.rotate_angle}, '
                f'img_border_value={self.img_border_value}, mask_border_value={self.mask_border_value}, '
                f'seg_ignore_label={self.seg_ignore_label}, interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class RandomRotate(BaseTransform):
    """Rotate by a random angle about the image centre, keeping the image size (mmrotate 1.x's arguments).

    As mmrotate's: with probability ``prob`` an angle is drawn uniformly in ``[-angle_range, angle_range)``
    and, when an object of ``rect_obj_labels`` is present, replaced by one of (90, 180, -90, -180); the turn
    is done by the ``rotate_type`` transform (:class:`Rotate`). The random draws come from numpy's global
    RNG in mmrotate's order (rotate?, angle, horizontal angle).

    Args:
        prob (float): probability of rotating, in [0, 1]. Defaults to 0.5.
        angle_range (float): angles are drawn uniformly in [-angle_range, angle_range) degrees,
            0 < angle_range <= 180. Defaults to 180.
        rect_obj_labels (Sequence[int], optional): labels of objects that are always axis-aligned
            (e.g. DOTA's storage-tank 9 and roundabout 11); if any is present, the angle is drawn from
            {90, 180, -90, -180} instead, so they stay axis-aligned. Defaults to None.
        rotate_type (str): the registered transform that does the turn; it is built with
            ``rotate_angle=0`` and ``**rotate_kwargs`` and its ``rotate_angle`` set per call
            (:class:`Rotate`, as in mmrotate). Defaults to ``'Rotate'``.
        rect_classes (Sequence[int], optional): deprecated mmrotate 0.x name of ``rect_obj_labels``
            (a ``FutureWarning``; not both). Defaults to None.
        **rotate_kwargs: the other arguments of ``rotate_type``, e.g. ``img_border_value`` (its deprecated
            name ``border_value`` is still accepted, with a ``FutureWarning``).

    Raises:
        ValueError: ``prob`` or ``angle_range`` out of range, or both ``rect_obj_labels`` and
            ``rect_classes`` given.
        TypeError: ``rect_obj_labels`` not a list of int labels.
    """

    horizontal_angles = HORIZONTAL_ANGLES

    def __init__(self, prob: float = 0.5, angle_range: float = 180, rect_obj_labels: Optional[Sequence[int]] = None,
                 rotate_type: str = 'Rotate', rect_classes: Optional[Sequence[int]] = None, **rotate_kwargs) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomRotate: prob must be in [0, 1], got {prob}')
        if not 0 < angle_range <= 180:
            raise ValueError(f'RandomRotate: angle_range must be in (0, 180], got {angle_range}')
        if rect_classes is not None:
            if rect_obj_labels is not None:
                raise ValueError('RandomRotate: give rect_obj_labels only (rect_classes is its deprecated name)')
            warnings.warn("RandomRotate: 'rect_classes' is deprecated (mmrotate 0.x); "
                          "use 'rect_obj_labels' (mmrotate 1.x)", FutureWarning)
            rect_obj_labels = rect_classes
        if 'border_value' in rotate_kwargs:       # this class's own earlier name
            warnings.warn("RandomRotate: 'border_value' is deprecated; use 'img_border_value'", FutureWarning)
            rotate_kwargs['img_border_value'] = rotate_kwargs.pop('border_value')
        self.prob, self.angle_range = prob, angle_range
        self.rect_obj_labels = _check_labels('RandomRotate', rect_obj_labels)
        self.rotate_cfg = dict(type=rotate_type, **rotate_kwargs)
        self.rotate = TRANSFORMS.build(dict(self.rotate_cfg, rotate_angle=0))

    @cache_randomness
    def _is_rotate(self) -> bool:
        return np.random.rand() < self.prob

    @cache_randomness
    def _random_angle(self) -> float:
        return self.angle_range * (2 * np.random.rand() - 1)

    @cache_randomness
    def _random_horizontal_angle(self) -> float:
        return np.random.choice(self.horizontal_angles)

    def _angle(self, results: dict) -> float:
        angle = self._random_angle()
        if _has_rect_objects(results, self.rect_obj_labels):
            angle = self._random_horizontal_angle()
        return float(angle)

    def transform(self, results: dict) -> dict:
        if not self._is_rotate():
            return results
        self.rotate.rotate_angle = self._angle(results)
        return self.rotate(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, angle_range={self.angle_range}, '
                f'rect_obj_labels={self.rect_obj_labels}, rotate_cfg={self.rotate_cfg})')


@TRANSFORMS.register_module()
class RandomChoiceRotate(BaseTransform):
    """Rotate by an angle drawn from a list, or not at all (mmrotate 1.x's ``RandomChoiceRotate``).

    Each call draws from ``angles + [0]``: with a float ``prob`` the angles share it equally and 0 (no turn)
    gets ``1 - prob``; with a list, ``prob[i]`` is the probability of ``angles[i]`` and 0 gets the rest.
    When a turn is drawn and an object of ``rect_obj_labels`` is present, the angle is replaced by one of
    (90, 180, -90, -180). The random draws come from numpy's global RNG in mmrotate's order.

    Args:
        angles (list[int]): the angles in degrees (clockwise on screen), without 0.
        prob (float | list[float]): the probability of a turn (in [0, 1]), or one per angle (summing to at
            most 1). Defaults to 0.5.
        rect_obj_labels (Sequence[int], optional): labels of always axis-aligned objects, as
            :class:`RandomRotate`'s. Defaults to None.
        rotate_type (str): the registered transform that does the turn (:class:`Rotate`). Defaults to
            ``'Rotate'``.
        **rotate_kwargs: the other arguments of ``rotate_type`` (``img_border_value``...).

    Raises:
        ValueError: ``angles`` empty, not ints or holding 0, or ``prob`` out of range or of another length
            than ``angles``, naming the key.
        TypeError: ``prob`` neither a number nor a list of numbers, or ``rect_obj_labels`` not int labels.
    """

    horizontal_angles = HORIZONTAL_ANGLES

    def __init__(self, angles: List[int], prob: Union[float, List[float]] = 0.5,
                 rect_obj_labels: Optional[Sequence[int]] = None, rotate_type: str = 'Rotate',
                 **rotate_kwargs) -> None:
        if not isinstance(angles, (list, tuple)) or not angles or \
                not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in angles):
            raise ValueError(f'RandomChoiceRotate: angles must be a non-empty list of int degrees, got {angles!r}')
        if 0 in angles:
            raise ValueError(f'RandomChoiceRotate: angles must not hold 0 (no turn has probability 1 - prob), '
                             f'got {list(angles)}')
        if isinstance(prob, (list, tuple)):
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in prob):
                raise TypeError(f'RandomChoiceRotate: prob must be a number or a list of numbers, got {prob!r}')
            if len(prob) != len(angles):
                raise ValueError(f'RandomChoiceRotate: prob has {len(prob)} values for {len(angles)} angles')
            if any(p < 0 for p in prob) or not sum(prob) <= 1 + 1e-9:
                raise ValueError(f'RandomChoiceRotate: prob must be >= 0 and sum to at most 1, got {list(prob)}')
            prob = [float(p) for p in prob]
        elif isinstance(prob, (int, float)) and not isinstance(prob, bool):
            if not 0 <= prob <= 1:
                raise ValueError(f'RandomChoiceRotate: prob must be in [0, 1], got {prob}')
        else:
            raise TypeError(f'RandomChoiceRotate: prob must be a number or a list of numbers, got {prob!r}')
        self.angles, self.prob = [int(a) for a in angles], prob
        self.rect_obj_labels = _check_labels('RandomChoiceRotate', rect_obj_labels)
        self.rotate_cfg = dict(type=rotate_type, **rotate_kwargs)
        self.rotate = TRANSFORMS.build(dict(self.rotate_cfg, rotate_angle=0))

    def probabilities(self) -> List[float]:
        """The probability of each of ``angles + [0]``.

        Returns:
            list[float]: one per angle, then that of no turn.
        """
        if isinstance(self.prob, list):
            return self.prob + [max(0.0, 1 - sum(self.prob))]
        return [self.prob / len(self.angles)] * len(self.angles) + [1.0 - self.prob]

    @cache_randomness
    def _choice_angle(self) -> int:
        p = np.asarray(self.probabilities(), dtype=np.float64)
        return int(np.random.choice(self.angles + [0], p=p / p.sum()))

    @cache_randomness
    def _random_horizontal_angle(self) -> int:
        return int(np.random.choice(self.horizontal_angles))

    def transform(self, results: dict) -> dict:
        angle = self._choice_angle()
        if angle == 0:
            return results
        if _has_rect_objects(results, self.rect_obj_labels):
            angle = self._random_horizontal_angle()
        self.rotate.rotate_angle = angle
        return self.rotate(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(angles={self.angles}, prob={self.prob}, '
                f'rect_obj_labels={self.rect_obj_labels}, rotate_cfg={self.rotate_cfg})')


@TRANSFORMS.register_module()
class RotatedAlbu(BaseTransform):
    """Albumentations on images with rotated or quadrilateral boxes.

    Each box travels as its 4 corners (albumentations keypoints), so any
    albumentations transform, photometric or geometric, applies; the moved
    corners come back as minimum-area rboxes (or as qboxes when the input
    was qbox). Boxes whose centre leaves the image are dropped.

    Args:
        transforms (list[dict]): albumentations transforms, each ``dict(type=<albumentations class name>,
            **its args)``, e.g.
            ``[dict(type='RandomBrightnessContrast', p=0.5), dict(type='Affine', rotate=(-30, 30))]``.

    Raises:
        KeyError: a ``type`` that albumentations does not have.
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
