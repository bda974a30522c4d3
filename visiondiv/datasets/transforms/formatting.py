"""Packing of unpaired translation samples into model inputs (mmagic's ``PackInputs`` layout)."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from visiondiv.registry import TRANSFORMS

#: per-domain meta of :class:`~visiondiv.datasets.UnpairedSliceDataset` for CT and MR
DEFAULT_META_KEYS = tuple(f'{key}_{d}' for d in ('ct', 'mr') for key in ('case_id', 'slice_idx', 'img_path', 'spacing'))


@TRANSFORMS.register_module()
class PackTranslationInputs(BaseTransform):
    """Pack 2-D images and masks into ``inputs`` (dict key -> (1, H, W) float32 tensor) and ``data_samples``.

    Args:
        keys (Sequence[str]): result keys to pack; each must be present. ``mask_*`` keys must hold 0/1
            values; every other key is an image.
        meta_keys (Sequence[str]): result keys copied into ``data_samples.metainfo`` when present.

    Returns ``dict(inputs=dict, data_samples=BaseDataElement)``. A missing key, a non-2-D array or a
    mask with values other than 0 and 1 is an error naming the key.
    """

    def __init__(self, keys: Sequence[str] = ('img_ct', 'img_mr', 'mask_ct'),
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        if isinstance(keys, str) or isinstance(meta_keys, str):
            raise TypeError('PackTranslationInputs: keys and meta_keys must be sequences of strings, not a string')
        self.keys, self.meta_keys = tuple(keys), tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        inputs = {}
        for key in self.keys:
            if key not in results:
                raise KeyError(f'PackTranslationInputs: key {key!r} is not in the results; present: '
                               f'{sorted(results)}')
            arr = np.asarray(results[key])
            if arr.ndim != 2:
                raise ValueError(f'PackTranslationInputs: {key!r} must be a 2-D (H, W) array, got shape {arr.shape}')
            if key.startswith('mask_') and not np.isin(arr, (0, 1)).all():
                raise ValueError(f'PackTranslationInputs: mask {key!r} must hold only 0 and 1, found values '
                                 f'{np.unique(arr)[:10].tolist()}')
            inputs[key] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))[None]
        meta = {key: results[key] for key in self.meta_keys if key in results}
        return dict(inputs=inputs, data_samples=BaseDataElement(metainfo=meta))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys}, meta_keys={self.meta_keys})'
