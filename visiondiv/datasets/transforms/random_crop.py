"""mmpretrain's ``RandomCrop`` (torchvision's): pad, crop a random window; CIFAR's ``RandomCrop(32, padding=4)``."""
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from visiondiv.registry import TRANSFORMS

_PADDING_MODES = ('constant', 'edge', 'reflect', 'symmetric')


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in pair):
        raise ValueError(f'RandomCrop: {name} must be a positive int or (h, w), got {value!r}')
    return pair


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Pad ``results['img']`` by ``padding``, then crop a ``crop_size`` window at a uniformly random position.

    As mmpretrain's ``RandomCrop`` and torchvision's: ``padding`` is one int (all sides), ``(left/right,
    top/bottom)`` or ``(left, top, right, bottom)``; with ``pad_if_needed`` a side smaller than the crop is padded
    on both ends by the missing amount (torchvision's rule). Offsets are drawn
    with ``np.random`` (seeded per worker by mmengine). Updates ``img`` and ``img_shape``. mmdet's ``RandomCrop``
    (``'mmdet.RandomCrop'``) crops boxes too but cannot pad.

    Args:
        crop_size (int | Sequence[int]): Output size, ``s`` or ``(h, w)``.
        padding (int | Sequence[int], optional): Padding before cropping (see above). Defaults to None.
        pad_if_needed (bool): Pad images smaller than ``crop_size`` up to it. Defaults to False.
        pad_val (int | float | Sequence): Fill value of ``'constant'`` padding (one per channel allowed).
            Defaults to 0.
        padding_mode (str): ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``. Defaults to
            ``'constant'``.

    Raises:
        ValueError: A bad ``crop_size`` / ``padding`` / ``padding_mode``; in ``transform``, an image smaller than
            ``crop_size`` after padding (without ``pad_if_needed``).
    """

    def __init__(self, crop_size: Union[int, Sequence[int]], padding: Optional[Union[int, Sequence[int]]] = None,
                 pad_if_needed: bool = False, pad_val: Union[int, float, Sequence] = 0,
                 padding_mode: str = 'constant') -> None:
        self.crop_size = _pair(crop_size, 'crop_size')
        if padding is not None:
            pads = (padding, ) * 4 if isinstance(padding, int) else tuple(padding)
            if len(pads) == 2:
                pads = pads * 2
            if len(pads) != 4 or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pads):
                raise ValueError(f'RandomCrop: padding must be a non-negative int, (lr, tb) or (l, t, r, b), '
                                 f'got {padding!r}')
            padding = pads
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f'RandomCrop: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}')
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.pad_val, self.padding_mode = pad_val, padding_mode

    def _pad(self, img: np.ndarray, pads: Tuple[int, int, int, int]) -> np.ndarray:
        if not any(pads):
            return img
        return mmcv.impad(img, padding=pads, pad_val=self.pad_val, padding_mode=self.padding_mode)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if self.padding is not None:
            img = self._pad(img, self.padding)
        ch, cw = self.crop_size
        if self.pad_if_needed:
            dh, dw = max(ch - img.shape[0], 0), max(cw - img.shape[1], 0)
            img = self._pad(img, (dw, dh, dw, dh))
        h, w = img.shape[:2]
        if h < ch or w < cw:
            raise ValueError(f'RandomCrop: the (padded) image is {h}x{w}, smaller than crop_size {ch}x{cw} '
                             '(set pad_if_needed=True)')
        top, left = np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1)
        results['img'] = img[top:top + ch, left:left + cw]
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, padding={self.padding}, '
                f'pad_if_needed={self.pad_if_needed}, pad_val={self.pad_val}, padding_mode={self.padding_mode!r})')
