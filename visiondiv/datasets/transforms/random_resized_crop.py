"""mmpretrain's ``RandomResizedCrop`` (torchvision's): crop a random area / aspect ratio, resize to ``scale``."""
import math
from numbers import Real
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from visiondiv.registry import TRANSFORMS

_INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')
_BACKENDS = ('cv2', 'pillow')


def _range(value: Sequence[float], name: str) -> Tuple[float, float]:
    pair = tuple(value) if isinstance(value, Sequence) else (value, )
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, Real) for v in pair):
        raise ValueError(f'RandomResizedCrop: {name} must be a pair (min, max) of numbers, got {value!r}')
    low, high = float(pair[0]), float(pair[1])
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0:
        raise ValueError(f'RandomResizedCrop: {name} must be finite and positive, got {value!r}')
    if low > high:
        raise ValueError(f'RandomResizedCrop: {name} is reversed (min > max), got {value!r}')
    return low, high


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random region of ``results['img']`` and resize it to ``scale`` (mmpretrain's / torchvision's).

    Up to ``max_attempts`` times, draw an area fraction uniformly from ``crop_ratio_range`` and an aspect ratio
    (w / h) log-uniformly from ``aspect_ratio_range`` (both with ``np.random``, seeded per worker by mmengine);
    the box is ``w = round(sqrt(area * ratio))``, ``h = round(sqrt(area / ratio))``, kept when it fits in the
    image, at a uniformly random offset. If no attempt fits, the fallback is the central crop of the largest box
    whose ratio is clamped into ``aspect_ratio_range`` (the whole image when its ratio is in range). The box is
    then resized to ``scale``. Updates ``img`` and ``img_shape``. ImageNet training (torchvision, mdistiller)
    uses ``RandomResizedCrop(224)`` with the defaults and PIL bilinear resizing (``backend='pillow'``).

    Args:
        scale (int | Sequence[int]): Output size, ``s`` or ``(h, w)``.
        crop_ratio_range (Sequence[float]): Range of the crop's area as a fraction of the image's, ``(min, max)``.
            Defaults to ``(0.08, 1.0)``.
        aspect_ratio_range (Sequence[float]): Range of the crop's aspect ratio w / h, ``(min, max)``. Defaults
            to ``(3 / 4, 4 / 3)``.
        max_attempts (int): Random draws before the central-crop fallback; 0 goes straight to the fallback.
            Defaults to 10.
        interpolation (str): ``'nearest'``, ``'bilinear'``, ``'bicubic'``, ``'area'`` (cv2 only) or
            ``'lanczos'``. Defaults to ``'bilinear'``.
        backend (str): ``'cv2'`` or ``'pillow'`` (uint8 images only) for the resize. Defaults to ``'cv2'``.

    Raises:
        ValueError: A bad ``scale``, a range that is not a positive ``(min, max)`` pair or is reversed, a
            negative ``max_attempts``, an unknown ``interpolation`` / ``backend``, or ``'area'`` with pillow.
    """

    def __init__(self, scale: Union[int, Sequence[int]], crop_ratio_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.), max_attempts: int = 10,
                 interpolation: str = 'bilinear', backend: str = 'cv2') -> None:
        pair = (scale, scale) if isinstance(scale, int) else tuple(scale)
        if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in pair):
            raise ValueError(f'RandomResizedCrop: scale must be a positive int or (h, w), got {scale!r}')
        self.scale = pair
        self.crop_ratio_range = _range(crop_ratio_range, 'crop_ratio_range')
        self.aspect_ratio_range = _range(aspect_ratio_range, 'aspect_ratio_range')
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 0:
            raise ValueError(f'RandomResizedCrop: max_attempts must be an int >= 0, got {max_attempts!r}')
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f'RandomResizedCrop: interpolation must be one of {_INTERPOLATIONS}, '
                             f'got {interpolation!r}')
        if backend not in _BACKENDS:
            raise ValueError(f'RandomResizedCrop: backend must be one of {_BACKENDS}, got {backend!r}')
        if backend == 'pillow' and interpolation == 'area':
            raise ValueError("RandomResizedCrop: interpolation 'area' needs backend='cv2'")
        self.max_attempts, self.interpolation, self.backend = max_attempts, interpolation, backend

    def crop_box(self, h: int, w: int) -> Tuple[int, int, int, int]:
        """Draw the crop box of an ``h`` x ``w`` image.

        Args:
            h (int): Image height.
            w (int): Image width.

        Returns:
            tuple[int, int, int, int]: ``(top, left, crop_h, crop_w)``.
        """
        area = h * w
        log_ratio = (math.log(self.aspect_ratio_range[0]), math.log(self.aspect_ratio_range[1]))
        for _ in range(self.max_attempts):
            target_area = np.random.uniform(*self.crop_ratio_range) * area
            ratio = math.exp(np.random.uniform(*log_ratio))
            cw = int(round(math.sqrt(target_area * ratio)))
            ch = int(round(math.sqrt(target_area / ratio)))
            if 0 < cw <= w and 0 < ch <= h:
                top = np.random.randint(0, h - ch + 1)
                left = np.random.randint(0, w - cw + 1)
                return top, left, ch, cw
        # fallback: the central crop with the aspect ratio clamped into the range
        in_ratio = w / h
        low, high = self.aspect_ratio_range
        if in_ratio < low:
            cw, ch = w, max(1, int(round(w / low)))
        elif in_ratio > high:
            ch, cw = h, max(1, int(round(h * high)))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self.crop_box(*img.shape[:2])
        img = img[top:top + ch, left:left + cw]
        img = mmcv.imresize(img, (self.scale[1], self.scale[0]), interpolation=self.interpolation,
                            backend=self.backend)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, max_attempts={self.max_attempts}, '
                f'interpolation={self.interpolation!r}, backend={self.backend!r})')
