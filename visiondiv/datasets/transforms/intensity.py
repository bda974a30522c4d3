"""Albumentations intensity transforms of single-channel slices (cross-modality CT -> MR augmentation).

Images are float (H, W) or (H, W, 1) slices in [0, 1] (``normalize_volume``); masks are left untouched.
Randomness (the choice under ``p`` and any random parameter) comes from the transform's own generators,
which ``A.Compose(..., seed=s)`` seeds, so a seeded pipeline is reproducible. In mmcv pipelines use them
through :class:`visiondiv.datasets.transforms.SliceAlbu` (or its thin wrappers of the same names).
"""
import os.path as osp
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from albumentations.core.transforms_interface import ImageOnlyTransform

from visiondiv.datasets.medical import load_nifti, normalize_volume
from visiondiv.utils.validation import check_finite, check_window

__all__ = ['HistogramMatching', 'NyulStandardization', 'RandomIntensityRemap', 'CTToPseudoMR', 'translate_slices']

#: translator generators output H, W at the input size for multiples of this (two stride-2 stages)
SIZE_DIVISOR = 4


def _check_p(p: float, name: str) -> float:
    if not 0 <= p <= 1:
        raise ValueError(f'{name}: p must be in [0, 1], got {p}')
    return float(p)


def _check_image(img: np.ndarray, name: str) -> np.ndarray:
    """``img`` if it is a finite single-channel (H, W) or (H, W, 1) array; the error names the transform."""
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 1):
        raise ValueError(f'{name}: expected a single-channel (H, W) or (H, W, 1) image, got shape {img.shape}')
    return check_finite(img, f'{name} input image')


class HistogramMatching(ImageOnlyTransform):
    """Match the image's histogram to a reference MR intensity distribution (``skimage.exposure.match_histograms``).

    albumentations' own ``HistogramMatching`` matches to one 2-D reference image resized to the input; this one
    matches to the values pooled over whole reference volumes, built once at construction.

    Args:
        reference (np.ndarray | Sequence[str] | str): an array of reference intensities (any shape, pooled), or
            NIfTI paths of reference MR volumes; each volume is normalised with
            ``normalize_volume(vol, 'percentile')`` and the values pooled.
        reference_mask (float | Sequence[str], optional): only with paths: NIfTI masks, one per reference volume
            (voxels > 0 kept), or a threshold on the normalised values (values > threshold kept), to leave
            background out. Defaults to None (every voxel).
        num_quantiles (int, optional): the pooled reference is condensed to this many equally spaced quantiles
            (its distribution to 1 / num_quantiles), so that matching a slice does not sort millions of
            values; None keeps every value. Defaults to 4096.
        p (float): probability of applying the transform. Defaults to 1.0.

    The output has the reference's range ([0, 1] for NIfTI references), float32. Errors name the reference
    file: unreadable file, NaN / inf voxels, mask of another shape, nothing left after masking.
    """

    def __init__(self, reference: Union[np.ndarray, Sequence[str], str],
                 reference_mask: Union[None, float, Sequence[str]] = None, num_quantiles: Optional[int] = 4096,
                 p: float = 1.0) -> None:
        super().__init__(p=_check_p(p, 'HistogramMatching'))
        self.reference, self.reference_mask, self.num_quantiles = reference, reference_mask, num_quantiles
        values = self._pool(reference, reference_mask)
        if num_quantiles is not None:
            if num_quantiles < 2:
                raise ValueError(f'HistogramMatching: num_quantiles must be >= 2 or None, got {num_quantiles}')
            if values.size > num_quantiles:
                values = np.quantile(values, (np.arange(num_quantiles) + 0.5) / num_quantiles)
        self.reference_values = values

    @staticmethod
    def _pool(reference: Union[np.ndarray, Sequence[str], str],
              reference_mask: Union[None, float, Sequence[str]]) -> np.ndarray:
        if isinstance(reference, str):
            reference = [reference]
        if isinstance(reference, np.ndarray) or (len(reference) and not isinstance(reference[0], str)):
            if reference_mask is not None:
                raise ValueError('HistogramMatching: reference_mask applies to NIfTI reference paths only')
            values = np.asarray(reference, dtype=np.float64).ravel()
            check_finite(values, 'HistogramMatching: reference array')
        else:
            masks = reference_mask
            if masks is not None and not isinstance(masks, (int, float)):
                masks = [masks] if isinstance(masks, str) else list(masks)
                if len(masks) != len(reference):
                    raise ValueError(f'HistogramMatching: {len(masks)} reference_mask paths for '
                                     f'{len(reference)} reference volumes')
            pooled = []
            for i, path in enumerate(reference):
                vol, _ = load_nifti(path)
                vol = normalize_volume(check_finite(vol, path), 'percentile')
                if isinstance(masks, (int, float)):
                    vol = vol[vol > masks]
                elif masks is not None:
                    mask, _ = load_nifti(masks[i])
                    if mask.shape != vol.shape:
                        raise ValueError(f'{masks[i]}: reference_mask shape {mask.shape} differs from the '
                                         f'reference volume {vol.shape} ({path})')
                    vol = vol[mask > 0]
                if not vol.size:
                    raise ValueError(f'{path}: no reference voxel left after reference_mask={reference_mask!r}')
                pooled.append(vol.ravel().astype(np.float64))
            values = np.concatenate(pooled) if pooled else np.zeros(0)
        if not values.size:
            raise ValueError('HistogramMatching: the reference is empty')
        return values

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        from skimage.exposure import match_histograms
        img = _check_image(img, 'HistogramMatching')
        # match_histograms wants the same ndim; the pooled values are one long "image"
        ref = self.reference_values.reshape((-1,) + (1,) * (img.ndim - 1))
        return match_histograms(img.astype(np.float64), ref).astype(np.float32)

    def get_transform_init_args_names(self) -> Tuple[str, ...]:
        return ('reference', 'reference_mask', 'num_quantiles')


def _load_landmarks(landmarks: Union[np.ndarray, Sequence[float], str]) -> np.ndarray:
    """Nyúl landmarks as TorchIO's ``HistogramStandardization.train`` returns them (13 increasing values) from an
    array or a ``.npy`` / ``.txt`` (TorchIO's text format) / ``.pt`` / ``.pth`` file; errors name the file."""
    where, value = 'NyulStandardization: landmarks', landmarks
    if isinstance(landmarks, str):
        where = landmarks
        if not osp.isfile(landmarks):
            raise FileNotFoundError(f'NyulStandardization: landmarks file not found: {landmarks}')
        ext = osp.splitext(landmarks)[1]
        try:
            if ext == '.npy':
                value = np.load(landmarks, allow_pickle=False)
            elif ext == '.txt':     # TorchIO writes '<name> v1 v2 ...'
                with open(landmarks) as f:
                    value = [float(v) for v in f.read().split()[1:]]
            elif ext in ('.pt', '.pth'):
                value = torch.load(landmarks, map_location='cpu', weights_only=True)
                if isinstance(value, dict):   # TorchIO's {image name: landmarks}
                    if len(value) != 1:
                        raise ValueError(f'holds landmarks of {sorted(value)}; expected one image name')
                    value = next(iter(value.values()))
                value = np.asarray(value.cpu() if hasattr(value, 'cpu') else value, dtype=np.float64)
            else:
                raise ValueError(f"unknown extension {ext!r}, expected '.npy', '.txt', '.pt' or '.pth'")
        except (ValueError, OSError, RuntimeError) as err:
            raise ValueError(f'{landmarks}: cannot read Nyúl landmarks ({err})') from None
        except Exception as err:   # torch's unpickler raises several types
            raise ValueError(f'{landmarks}: cannot read Nyúl landmarks ({type(err).__name__}: {err})') from None
    value = np.asarray(value, dtype=np.float64)
    if value.shape != (13,):
        raise ValueError(f'{where}: expected the 13 landmarks of TorchIO (percentiles 1, 10, 20, 25, ..., 90, 99), '
                         f'got shape {value.shape}')
    check_finite(value, where)
    if np.any(np.diff(value) < 0) or value[-1] <= value[0]:
        raise ValueError(f'{where}: landmarks must increase, got {value.tolist()}')
    return value


class NyulStandardization(ImageOnlyTransform):
    """Nyúl & Udupa histogram standardisation (TorchIO's ``HistogramStandardization``), rescaled to [0, 1].

    The image's percentiles (1, 10, 20, ..., 90, 99; TorchIO's landmarks) are mapped piecewise linearly onto
    the trained ``landmarks`` (standard scale 0..100). The result is then rescaled with the landmarks' range,
    ``(y - landmarks[0]) / (landmarks[-1] - landmarks[0])``, and clipped to [0, 1] (values below the 1st / above
    the 99th percentile saturate, as with ``normalize_volume(vol, 'percentile')``). The percentiles are those
    of the slice it is given (of the voxels that ``masking_method`` keeps).

    Args:
        landmarks (np.ndarray | Sequence[float] | str): 13 values from :meth:`train_landmarks`, or a ``.npy`` /
            ``.txt`` / ``.pt`` / ``.pth`` file of them.
        masking_method (str, optional): TorchIO's ``masking_method`` (None: every pixel; e.g. ``'mean'``:
            pixels above the mean). Defaults to None.
        p (float): probability of applying the transform. Defaults to 1.0.
    """

    def __init__(self, landmarks: Union[np.ndarray, Sequence[float], str], masking_method: Optional[str] = None,
                 p: float = 1.0) -> None:
        import torchio as tio
        super().__init__(p=_check_p(p, 'NyulStandardization'))
        self.landmarks, self.masking_method = landmarks, masking_method
        self.landmark_values = _load_landmarks(landmarks)
        self._standardize = tio.HistogramStandardization({'img': self.landmark_values}, masking_method=masking_method)

    @classmethod
    def train_landmarks(cls, paths: Sequence[str], output_path: Optional[str] = None,
                        cutoff: Optional[Tuple[float, float]] = None, mask_paths: Optional[Sequence[str]] = None
                        ) -> np.ndarray:
        """Landmarks of reference MR NIfTI volumes (``torchio.HistogramStandardization.train``).

        Args:
            paths: reference volumes.
            output_path: where to save them (``.npy`` or TorchIO's ``.txt``), or None.
            cutoff: quantiles (pc1, pc2) mapped to the ends of the standard scale; TorchIO's default (0.01, 0.99).
            mask_paths: masks of the voxels to use, one per volume, or None for all voxels.
        """
        import torchio as tio
        paths = [paths] if isinstance(paths, str) else list(paths)
        if not paths:
            raise ValueError('NyulStandardization.train_landmarks: no reference volumes given')
        for path in paths + list(mask_paths or []):
            if not osp.isfile(path):
                raise FileNotFoundError(f'NyulStandardization.train_landmarks: file not found: {path}')
        for path in paths:   # TorchIO would silently average NaN landmarks
            check_finite(load_nifti(path)[0], path)
        if output_path is not None and osp.splitext(output_path)[1] not in ('.npy', '.txt'):
            raise ValueError(f"NyulStandardization.train_landmarks: output_path must end in '.npy' or '.txt', "
                             f'got {output_path}')
        return tio.HistogramStandardization.train(paths, cutoff=cutoff, mask_path=mask_paths,
                                                  output_path=output_path, progress=False)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        import torchio as tio
        img = _check_image(img, 'NyulStandardization')
        # TorchIO images are (C, W, H, D): the slice as a one-voxel-thick volume
        subject = tio.Subject(img=tio.ScalarImage(tensor=torch.from_numpy(
            np.ascontiguousarray(img.reshape(img.shape[:2]), np.float32))[None, ..., None]))
        out = self._standardize(subject)['img'].data[0, ..., 0].numpy().astype(np.float64)
        lo, hi = self.landmark_values[0], self.landmark_values[-1]
        return np.clip((out - lo) / (hi - lo), 0, 1).astype(np.float32).reshape(img.shape)

    def get_transform_init_args_names(self) -> Tuple[str, ...]:
        return ('landmarks', 'masking_method')


class RandomIntensityRemap(ImageOnlyTransform):
    """Random smooth intensity remapping of [0, 1] onto [0, 1] (cross-modality augmentation).

    A PCHIP spline (``scipy.interpolate.PchipInterpolator``) through ``num_control_points`` knots at equally
    spaced intensities 0, ..., 1 with values drawn uniformly in [0, 1]: smooth, not necessarily monotone
    (tissue contrast can invert, as between CT and MR), and never leaving [0, 1] because PCHIP does not
    overshoot its knots. Inputs outside [0, 1] are clipped first.

    Args:
        num_control_points (int): number of knots, >= 2 (2 gives a random linear map). Defaults to 4.
        p (float): probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self, num_control_points: int = 4, p: float = 0.5) -> None:
        super().__init__(p=_check_p(p, 'RandomIntensityRemap'))
        if int(num_control_points) != num_control_points or num_control_points < 2:
            raise ValueError(f'RandomIntensityRemap: num_control_points must be an integer >= 2, '
                             f'got {num_control_points}')
        self.num_control_points = int(num_control_points)

    def get_params(self) -> Dict[str, Any]:
        return {'control_values': self.random_generator.uniform(0.0, 1.0, self.num_control_points)}

    def apply(self, img: np.ndarray, control_values: np.ndarray = None, **params: Any) -> np.ndarray:
        from scipy.interpolate import PchipInterpolator
        img = _check_image(img, 'RandomIntensityRemap')
        knots = np.linspace(0.0, 1.0, len(control_values))
        out = PchipInterpolator(knots, control_values)(np.clip(img.astype(np.float64), 0, 1))
        return np.clip(out, 0, 1).astype(np.float32)

    def get_transform_init_args_names(self) -> Tuple[str, ...]:
        return ('num_control_points',)


@torch.no_grad()
def translate_slices(generator: nn.Module, slices: np.ndarray, batch_size: int = 16,
                     device: Union[str, torch.device, None] = None) -> np.ndarray:
    """Translate (N, H, W) slices with values in [0, 1]; returns (N, H, W) float32 in [0, 1].

    H and W are padded (edge values) to a multiple of ``SIZE_DIVISOR`` and cropped back. The generator
    works in [-1, 1] (tanh output), the convention of the translator's data preprocessor: inputs are mapped
    by ``2 * v - 1`` (values outside [0, 1] are not checked) and outputs clamped to [-1, 1], then mapped back.
    Runs without gradients. Public as ``visiondiv.apis.translate_slices``.

    Args:
        generator (nn.Module): a generator (``visiondiv.apis.load_translator``), taking and returning
            (B, 1, H, W) tensors.
        slices (np.ndarray): (N, H, W) slices with values in [0, 1], cast to float32.
        batch_size (int): slices per forward pass. Defaults to 16.
        device (str | torch.device, optional): where the batches go; None: the device of the generator's
            first parameter. Defaults to None.

    Returns:
        np.ndarray: the translated slices, float32 (N, H, W) in [0, 1].

    Raises:
        ValueError: ``slices`` is not 3-D, or holds NaN or inf.
    """
    arr = np.asarray(slices, dtype=np.float32)
    if arr.ndim != 3:
        raise ValueError(f'translate_slices: slices must be (N, H, W), got shape {arr.shape}')
    if not np.isfinite(arr).all():
        raise ValueError('translate_slices: slices contain NaN or inf')
    if device is None:
        device = next(generator.parameters()).device
    n, h, w = arr.shape
    ph, pw = -h % SIZE_DIVISOR, -w % SIZE_DIVISOR
    out = np.empty_like(arr)
    for start in range(0, n, batch_size):
        x = torch.from_numpy(arr[start:start + batch_size]).unsqueeze(1).to(device) * 2 - 1
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode='replicate')
        y = generator(x)[:, 0, :h, :w]
        out[start:start + batch_size] = ((y.float().clamp(-1, 1) + 1) / 2).cpu().numpy()
    return out


class CTToPseudoMR(ImageOnlyTransform):
    """Translate a CT slice to pseudo-MR with a trained translator's generator.

    A pure transform: it takes the built generator (``visiondiv.apis.load_translator``; in a config,
    ``dict(type='CTToPseudoMR', checkpoint=...)`` loads it, see ``build_albu``) and keeps it on the CPU
    until first use, when it moves to ``device``. The generator runs in eval mode without gradients, so the
    output is deterministic; with ``p < 1`` whether a slice is translated follows the albumentations seed.

    Args:
        generator (nn.Module): the generator to the target domain, in eval mode.
        device (str): ``'cpu'`` or a CUDA device. On CUDA, dataloader workers must be spawned, not forked
            (``env_cfg=dict(mp_cfg=dict(mp_start_method='spawn'))``), or use ``num_workers=0``.
            Defaults to ``'cpu'``.
        ct_window (Sequence[float], optional): None if images are already in [0, 1] (CT window applied by
            the dataset), else the (lo, hi) HU window that clips and scales HU images to [0, 1] first.
            Defaults to None.
        batch_size (int): slices per forward pass when several images are translated at once (``images=``).
            Defaults to 16.
        p (float): probability of applying the transform. Defaults to 1.0.

    Output: float32 pseudo-MR in [0, 1], the input's shape ((H, W) or (H, W, 1)).
    """

    def __init__(self, generator: nn.Module, device: str = 'cpu', ct_window: Optional[Sequence[float]] = None,
                 batch_size: int = 16, p: float = 1.0) -> None:
        super().__init__(p=_check_p(p, 'CTToPseudoMR'))
        if not isinstance(generator, nn.Module):
            raise TypeError(f'CTToPseudoMR: generator must be a built nn.Module (a config names checkpoint=...), '
                            f'got {type(generator).__name__}')
        if batch_size < 1:
            raise ValueError(f'CTToPseudoMR: batch_size must be >= 1, got {batch_size}')
        self.device = device
        self.ct_window = None if ct_window is None else check_window(ct_window, 'CTToPseudoMR: ct_window')
        self.batch_size = int(batch_size)
        self.generator = generator.cpu().eval()
        self._on_device = device == 'cpu'

    def _translate(self, slices: np.ndarray) -> np.ndarray:
        """(N, H, W) slices -> (N, H, W) float32 pseudo-MR in [0, 1]."""
        if not self._on_device:    # after a spawned worker unpickled the CPU copy
            self.generator.to(self.device)
            self._on_device = True
        if self.ct_window is not None:
            slices = normalize_volume(slices, 'window', window=self.ct_window)
        return translate_slices(self.generator, slices.astype(np.float32), batch_size=self.batch_size,
                                device=self.device)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        img = _check_image(img, 'CTToPseudoMR')
        return self._translate(img.reshape((1,) + img.shape[:2]))[0].reshape(img.shape)

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 1):
            raise ValueError(f'CTToPseudoMR: expected (N, H, W) or (N, H, W, 1) images, got shape {images.shape}')
        check_finite(images, 'CTToPseudoMR input images')
        return np.ascontiguousarray(self._translate(images.reshape(images.shape[:3])).reshape(images.shape))

    def get_transform_init_args_names(self) -> Tuple[str, ...]:
        return ('generator', 'device', 'ct_window', 'batch_size')
