"""mmcv pipeline wrapper of albumentations for single-channel slices with label maps.

mmseg's ``Albu`` does not fit our slices: it runs ``cv2.cvtColor(img, COLOR_BGR2RGB)`` before and after the
albumentations pipeline, which silently turns an (H, W) or (H, W, 1) slice into an (H, W, 3) image, and it
offers no seed. :class:`SliceAlbu` passes the slice as it is (float32 in [0, 1]) and moves every label map of
``seg_fields`` with the geometric transforms.
"""
import os
from typing import List, Optional, Sequence, Union

import albumentations as A
import numpy as np
from mmcv.transforms import BaseTransform

from visiondiv.registry import FUNCTIONS, TRANSFORMS
from . import intensity

# registered under the albumentations transforms' names (``dict(type='HistogramMatching')``); the Python names
# differ so that one name means one class in the package
__all__ = ['SliceAlbu', 'SliceCTToPseudoMR', 'SliceHistogramMatching', 'SliceNyulStandardization',
           'SliceRandomIntensityRemap', 'build_albu']

_ALBU_PREFIXES = ('albumentations.', 'A.')


def build_albu(cfg: dict) -> A.BasicTransform:
    """An albumentations transform from ``dict(type=..., **kwargs)``: visiondiv's (:mod:`.intensity`) first, then
    albumentations' own; ``'albumentations.X'`` (or ``'A.X'``) names albumentations' explicitly. Nested
    ``transforms`` (``OneOf``, ``SomeOf``...) are built too.

    Args:
        cfg (dict): ``type`` (a name as above, or the transform class itself) and the transform's arguments.

    Returns:
        A.BasicTransform: the built transform (``type(**kwargs)``).

    Raises:
        TypeError: ``cfg`` is not a dict with a ``type``.
        KeyError: an unknown transform name.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'an albumentations transform config must be a dict with a "type", got {cfg!r}')
    args = dict(cfg)
    name = args.pop('type')
    if not isinstance(name, str):
        cls = name
    elif name.startswith(_ALBU_PREFIXES):
        short = name.split('.', 1)[1]
        if not hasattr(A, short):
            raise KeyError(f'albumentations has no transform {short!r} (type={name!r})')
        cls = getattr(A, short)
    elif name in intensity.__all__:
        cls = getattr(intensity, name)
    elif hasattr(A, name):
        cls = getattr(A, name)
    else:
        raise KeyError(f'unknown albumentations transform {name!r}: neither visiondiv\'s {intensity.__all__} '
                       'nor in albumentations')
    if 'transforms' in args:
        args['transforms'] = [build_albu(t) for t in args['transforms']]
    if cls is intensity.CTToPseudoMR and 'generator' not in args:
        args['generator'] = _load_translator(args)
    return cls(**args)


def _load_translator(args: dict):
    """The generator of ``CTToPseudoMR``'s config (``checkpoint``, ``target_domain``, ``config`` popped from
    ``args``), loaded by ``visiondiv.apis.load_translator`` through the FUNCTIONS registry."""
    if 'checkpoint' not in args:
        raise KeyError("CTToPseudoMR needs checkpoint= (the translator's mmengine checkpoint) or generator=")
    load_translator = FUNCTIONS.get('load_translator')
    return load_translator(args.pop('checkpoint'), target_domain=args.pop('target_domain', 'mr'), device='cpu',
                           config=args.pop('config', None))


@TRANSFORMS.register_module()
class SliceAlbu(BaseTransform):
    """Albumentations on a slice (``results['img']``) and its label maps (``results['seg_fields']``).

    Images are float32 (H, W) or (H, W, 1) slices (float64 is cast to float32); label maps travel as
    albumentations masks (nearest interpolation), so geometric transforms move them with the image and keep
    their values. ``img_shape`` follows ``img``.

    Args:
        transforms (dict | list[dict]): one config dict or a list of them (see :func:`build_albu`), e.g.
            ``[dict(type='Affine', rotate=(-15, 15), p=0.5), dict(type='RandomIntensityRemap', p=0.5)]``.
        seed (int, optional): seed of the albumentations pipeline (``A.Compose(seed=...)``), or None (then
            drawn from numpy's global generator, which mmengine's ``randomness.seed`` seeds). In dataloader
            workers the pipeline is reseeded from the worker's seed (PyTorch's, which mmengine's
            ``randomness.seed`` makes reproducible), mixed with ``seed`` when given, so that workers do not
            repeat each other. Defaults to None.
        keys (Sequence[str]): image keys of ``results`` that receive the same transform (first one: the
            reference shape). Defaults to ``('img',)``.
        mask_keys (Sequence[str], optional): label-map keys moved with the images; None:
            ``results['seg_fields']`` (mmseg's), or ``gt_seg_map`` if present. E.g. ``('mask_ct',)`` for the
            CT of an unpaired translation sample. Defaults to None.

    Raises:
        ValueError: no transforms, or no keys.
    """

    #: albumentations configs, built here (the config checker does not look them up in the registries)
    NON_REGISTRY_ARGS = ('transforms',)

    def __init__(self, transforms: Union[dict, List[dict]], seed: Optional[int] = None,
                 keys: Sequence[str] = ('img',), mask_keys: Optional[Sequence[str]] = None) -> None:
        self.transforms_cfg = [transforms] if isinstance(transforms, dict) else list(transforms)
        if not self.transforms_cfg:
            raise ValueError(f'{type(self).__name__}: no transforms given')
        self.keys = tuple(keys)
        if not self.keys:
            raise ValueError(f'{type(self).__name__}: keys must name at least one image key')
        self.seed, self.mask_keys = seed, None if mask_keys is None else tuple(mask_keys)
        # seed None: drawn from numpy's global generator, which mmengine's ``randomness.seed`` sets, so that a
        # run without dataloader workers repeats too (albumentations would otherwise seed from the OS)
        compose_seed = seed if seed is not None else int(np.random.randint(0, 2**31 - 1))
        self.aug = A.Compose([build_albu(t) for t in self.transforms_cfg], seed=compose_seed,
                             additional_targets={f'image{i}': 'image' for i in range(1, len(self.keys))})
        self._seeded_pid = None

    def _reseed_in_worker(self) -> None:
        import torch.utils.data
        info = torch.utils.data.get_worker_info()
        if info is None or self._seeded_pid == os.getpid():
            return
        self._seeded_pid = os.getpid()
        entropy = [info.seed] if self.seed is None else [self.seed, info.seed]
        self.aug.set_random_seed(int(np.random.SeedSequence(entropy).generate_state(1)[0]))

    def transform(self, results: dict) -> dict:
        name = type(self).__name__
        data = {}
        for i, key in enumerate(self.keys):
            if key not in results:
                raise KeyError(f'{name}: results has no {key!r} (keys={self.keys})')
            img = results[key]
            if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
                raise ValueError(f"{name}: results['{key}'] must be an (H, W) or (H, W, C) array, got "
                                 f'{getattr(img, "shape", type(img).__name__)}')
            data['image' if i == 0 else f'image{i}'] = img.astype(np.float32) if img.dtype == np.float64 else img
        seg_fields = self.mask_keys
        if seg_fields is None:
            seg_fields = results.get('seg_fields') or (['gt_seg_map'] if 'gt_seg_map' in results else [])
        if seg_fields:
            for k in seg_fields:
                if k not in results:
                    raise KeyError(f'{name}: results has no label map {k!r}')
            data['masks'] = [results[k] for k in seg_fields]
        self._reseed_in_worker()
        out = self.aug(**data)
        for i, key in enumerate(self.keys):
            results[key] = out['image' if i == 0 else f'image{i}']
        for k, mask in zip(seg_fields, out.get('masks', [])):
            results[k] = mask
        if 'img' in self.keys:
            results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(transforms={self.transforms_cfg}, seed={self.seed}, keys={self.keys}, '
                f'mask_keys={self.mask_keys})')


class _OneAlbu(SliceAlbu):
    """:class:`SliceAlbu` of the one transform ``albu_type``: ``dict(type=<its name>, prob=..., **its args)``."""

    albu_type: str = ''

    def __init__(self, prob: Optional[float] = None, seed: Optional[int] = None, keys: Sequence[str] = ('img',),
                 mask_keys: Optional[Sequence[str]] = None, **kwargs) -> None:
        cfg = dict(type=self.albu_type, **kwargs)
        if prob is not None:     # else the albumentations class's default p
            cfg['p'] = prob
        super().__init__(cfg, seed=seed, keys=keys, mask_keys=mask_keys)


@TRANSFORMS.register_module(name='CTToPseudoMR')
class SliceCTToPseudoMR(_OneAlbu):
    """CT slice -> pseudo-MR: ``dict(type='CTToPseudoMR', checkpoint=..., prob=0.5)``; arguments of
    :class:`visiondiv.datasets.transforms.intensity.CTToPseudoMR` (default prob 1)."""
    albu_type = 'CTToPseudoMR'


@TRANSFORMS.register_module(name='HistogramMatching')
class SliceHistogramMatching(_OneAlbu):
    """Histogram matching to reference MR volumes: ``dict(type='HistogramMatching', reference=[...])``;
    arguments of :class:`visiondiv.datasets.transforms.intensity.HistogramMatching` (default prob 1)."""
    albu_type = 'HistogramMatching'


@TRANSFORMS.register_module(name='NyulStandardization')
class SliceNyulStandardization(_OneAlbu):
    """Nyúl standardisation: ``dict(type='NyulStandardization', landmarks='mr_landmarks.npy')``; arguments of
    :class:`visiondiv.datasets.transforms.intensity.NyulStandardization` (default prob 1)."""
    albu_type = 'NyulStandardization'


@TRANSFORMS.register_module(name='RandomIntensityRemap')
class SliceRandomIntensityRemap(_OneAlbu):
    """Random smooth intensity remapping: ``dict(type='RandomIntensityRemap', num_control_points=4, prob=0.5)``;
    arguments of :class:`visiondiv.datasets.transforms.intensity.RandomIntensityRemap` (default prob 0.5)."""
    albu_type = 'RandomIntensityRemap'
