"""Packing of samples into model inputs: unpaired translation (mmagic's ``PackInputs`` layout), GCD, classification."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from visiondiv.registry import TRANSFORMS
from visiondiv.structures import ClsDataSample

#: per-domain meta of :class:`~visiondiv.datasets.UnpairedSliceDataset` for CT and MR
DEFAULT_META_KEYS = tuple(f'{key}_{d}' for d in ('ct', 'mr') for key in ('case_id', 'slice_idx', 'img_path', 'spacing'))


@TRANSFORMS.register_module()
class PackTranslationInputs(BaseTransform):
    """Pack 2-D images and masks into ``inputs`` (dict key -> (1, H, W) float32 tensor) and ``data_samples``.

    Returns ``dict(inputs=dict, data_samples=BaseDataElement)``. A missing key, a non-2-D array or a
    mask with values other than 0 and 1 is an error naming the key.

    Args:
        keys (Sequence[str]): result keys to pack; each must be present. ``mask_*`` keys must hold 0/1
            values; every other key is an image. Defaults to ``('img_ct', 'img_mr', 'mask_ct')``.
        meta_keys (Sequence[str]): result keys copied into ``data_samples.metainfo`` when present.
            Defaults to ``DEFAULT_META_KEYS``: ``case_id``, ``slice_idx``, ``img_path`` and ``spacing`` of
            ``ct`` and of ``mr`` (``'case_id_ct'``, ..., ``'spacing_mr'``).

    Raises:
        TypeError: ``keys`` or ``meta_keys`` is a single string.
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


def _sample_meta(results: dict, meta_keys: Sequence[str]) -> dict:
    """The ``meta_keys`` present in ``results``, numpy scalars as Python ones."""
    return {key: results[key].item() if isinstance(results[key], np.generic) else results[key]
            for key in meta_keys if key in results}


def _int_label(label, owner: str) -> int:
    """``label`` (``results['gt_label']``) as an int; a bool or a non-integer is refused, naming ``owner``."""
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise ValueError(f"{owner}: 'gt_label' must be an int, got {label!r}")
    return int(label)


#: sample meta of :class:`~visiondiv.datasets.GCDDataset` items
GCD_META_KEYS = ('sample_idx', 'labelled', 'old', 'img_path', 'base_idx')


@TRANSFORMS.register_module()
class PackGCDInputs(BaseTransform):
    """Pack the view(s) of a GCD sample into ``inputs`` (V, C, H, W) and ``data_samples`` (``BaseDataElement``).

    ``results['img']`` is one (H, W, C) / (H, W) array (V = 1) or a list of them (:class:`MultiView`), all of
    one shape and dtype; uint8 images stay uint8, others become float32 (NaN/inf refused). ``gt_label``, when
    present, becomes the data field ``gt_label`` (torch.long scalar).

    Args:
        meta_keys (Sequence[str]): result keys copied into ``data_samples.metainfo`` when present (numpy
            scalars become Python ones). Defaults to ``GCD_META_KEYS``: ``('sample_idx', 'labelled', 'old',
            'img_path', 'base_idx')``.

    Raises:
        TypeError: ``meta_keys`` is a single string.
    """

    def __init__(self, meta_keys: Sequence[str] = GCD_META_KEYS) -> None:
        if isinstance(meta_keys, str):
            raise TypeError('PackGCDInputs: meta_keys must be a sequence of strings, not a string')
        self.meta_keys = tuple(meta_keys)

    @staticmethod
    def _views(img, owner: str = 'PackGCDInputs') -> np.ndarray:
        views = list(img) if isinstance(img, (list, tuple)) else [img]
        if not views:
            raise ValueError(f"{owner}: results['img'] is an empty list of views")
        arrays = []
        for i, view in enumerate(views):
            if not isinstance(view, np.ndarray) or view.ndim not in (2, 3):
                raise ValueError(f"{owner}: view {i} of results['img'] must be an (H, W, C) or (H, W) array, "
                                 f'got {getattr(view, "shape", type(view).__name__)}')
            arrays.append(view[..., None] if view.ndim == 2 else view)   # cv2 drops a single channel
        if len({(a.shape, a.dtype) for a in arrays}) > 1:
            raise ValueError(f'{owner}: the views differ in shape or dtype: '
                             f'{[(a.shape, str(a.dtype)) for a in arrays]}')
        stack = np.stack(arrays)
        if stack.dtype == np.uint8:
            return stack
        if not (np.issubdtype(stack.dtype, np.floating) or np.issubdtype(stack.dtype, np.integer)):
            raise ValueError(f"{owner}: results['img'] has dtype {stack.dtype}; expected uint8 or a number type")
        stack = stack.astype(np.float32)
        if not np.isfinite(stack).all():
            raise ValueError(f"{owner}: results['img'] holds NaN or inf")
        return stack

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError(f"PackGCDInputs: results has no 'img'; present: {sorted(results)}")
        inputs = torch.from_numpy(np.ascontiguousarray(self._views(results['img']).transpose(0, 3, 1, 2)))
        sample = BaseDataElement(metainfo=_sample_meta(results, self.meta_keys))
        if 'gt_label' in results:
            sample.gt_label = torch.tensor(_int_label(results['gt_label'], 'PackGCDInputs'), dtype=torch.long)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'


#: sample meta of the classification readers' items after mmcv's transforms
CLS_META_KEYS = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'flip', 'flip_direction')


@TRANSFORMS.register_module()
class PackClsInputs(BaseTransform):
    """Pack a classification sample into ``inputs`` (C, H, W) and ``data_samples`` (:class:`ClsDataSample`).

    mmpretrain's ``PackInputs`` for one image: ``results['img']`` is an (H, W, C) or (H, W) array (uint8 stays
    uint8, other number types become float32, NaN/inf refused, as :class:`PackGCDInputs`); ``gt_label``, when
    present, becomes the data field ``gt_label`` (a 0-d ``torch.long`` tensor, the layout of
    ``PackGCDInputs``), which :class:`~visiondiv.models.ClsDataPreprocessor` and ``LinearClsHead`` read.

    Args:
        meta_keys (Sequence[str]): result keys copied into the sample's metainfo when present (numpy scalars
            become Python ones). Defaults to ``CLS_META_KEYS``: ``('sample_idx', 'img_path', 'ori_shape',
            'img_shape', 'flip', 'flip_direction')``.

    Raises:
        TypeError: ``meta_keys`` is a single string.
    """

    def __init__(self, meta_keys: Sequence[str] = CLS_META_KEYS) -> None:
        if isinstance(meta_keys, str):
            raise TypeError('PackClsInputs: meta_keys must be a sequence of strings, not a string')
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError(f"PackClsInputs: results has no 'img'; present: {sorted(results)}")
        if isinstance(results['img'], (list, tuple)):
            raise ValueError("PackClsInputs: results['img'] must be one image (use PackGCDInputs for views)")
        img = PackGCDInputs._views(results['img'], 'PackClsInputs')[0]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = ClsDataSample(metainfo=_sample_meta(results, self.meta_keys))
        if 'gt_label' in results:
            sample.set_gt_label(_int_label(results['gt_label'], 'PackClsInputs'))
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
