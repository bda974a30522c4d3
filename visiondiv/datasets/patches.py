"""The windows that split a large image into overlapping patches (mmrotate's ``img_split`` rules).

``tools/data/dota/split.py`` writes the patches of the training and test images with them, and
``visiondiv.apis.inference_detector_by_patches`` detects in the same windows of an image it is given.
"""
import math
from itertools import product
from typing import List, Optional, Sequence, Union

import numpy as np

#: the value (BGR, as cv2 and mmcv read images) that fills a window reaching past the image: mmrotate's
PATCH_PADDING_VALUE = (104, 116, 124)


def sliding_windows(width: int, height: int, sizes: List[int], gaps: List[int],
                    img_rate_thr: float = 0.6) -> np.ndarray:
    """Windows (x1, y1, x2, y2) covering a ``width`` x ``height`` image.

    Windows of ``size`` px every ``size - gap`` px; the last one of a row or
    column is moved back to end at the image border. A window is kept if the
    image covers more than ``img_rate_thr`` of it (at least the windows the
    image covers most are kept). One set of windows per (size, gap) pair.

    Args:
        width (int): the image width in px.
        height (int): the image height in px.
        sizes (list[int]): the window sizes in px.
        gaps (list[int]): the overlap of neighbouring windows in px, one per size.
        img_rate_thr (float): the fraction of a window the image must cover. Defaults to 0.6.

    Returns:
        np.ndarray: (n, 4) int64 windows, x2 and y2 exclusive.

    Raises:
        ValueError: a window size that does not exceed its gap.
    """
    windows = []
    for size, gap in zip(sizes, gaps):
        if size <= gap:
            raise ValueError(f'window size {size} must exceed the gap {gap}')
        step = size - gap
        starts = []
        for length in (width, height):
            n = 1 if length <= size else math.ceil((length - size) / step + 1)
            s = [step * i for i in range(n)]
            if len(s) > 1 and s[-1] + size > length:
                s[-1] = length - size
            starts.append(s)
        for x, y in product(*starts):
            windows.append([x, y, x + size, y + size])
    windows = np.array(windows, dtype=np.int64)
    inside = windows.copy()
    inside[:, 0::2] = inside[:, 0::2].clip(0, width)
    inside[:, 1::2] = inside[:, 1::2].clip(0, height)
    rates = ((inside[:, 2] - inside[:, 0]) * (inside[:, 3] - inside[:, 1]) /
             ((windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])))
    if not (rates > img_rate_thr).any():
        rates[np.abs(rates - rates.max()) < 0.01] = 1
    return windows[rates > img_rate_thr]


def crop_patch(img: np.ndarray, window: Sequence[int],
               padding_value: Optional[Union[int, Sequence[int]]] = PATCH_PADDING_VALUE) -> np.ndarray:
    """The part of ``img`` inside ``window``, padded to the window's size where the window leaves the image.

    Args:
        img (np.ndarray): (H, W) or (H, W, C) image.
        window (Sequence[int]): (x1, y1, x2, y2), x2 and y2 exclusive.
        padding_value (int | Sequence[int], optional): the fill of the padding (one value per channel);
            None: no padding, the patch may be smaller than the window. Defaults to ``PATCH_PADDING_VALUE``.

    Returns:
        np.ndarray: the patch, of ``img``'s dtype.
    """
    x1, y1, x2, y2 = (int(v) for v in window)
    patch = img[y1:y2, x1:x2]
    if padding_value is None or patch.shape[:2] == (y2 - y1, x2 - x1):
        return patch
    padded = np.empty((y2 - y1, x2 - x1) + img.shape[2:], img.dtype)
    padded[...] = padding_value
    padded[:patch.shape[0], :patch.shape[1]] = patch
    return padded
