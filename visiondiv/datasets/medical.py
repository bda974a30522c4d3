"""2-D slices of 3-D NIfTI volumes for segmentation, with the voxel spacing kept for metrics in mm."""
import glob
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from visiondiv.registry import DATASETS
from visiondiv.utils.validation import DOMAINS, check_finite, check_labels, check_window, normalize_domain


#: default CT window (HU) of ``normalize_volume(vol, 'window')``: air to soft tissue / bone edge
CT_WINDOW = (-1000.0, 400.0)


def normalize_volume(vol: np.ndarray, method: Optional[str], percentiles: Tuple[float, float] = (0.5, 99.5),
                     window: Sequence[float] = CT_WINDOW) -> np.ndarray:
    """Per-volume intensity normalisation: ``zscore``, ``percentile`` (clip then scale to [0, 1]),
    ``window`` (CT: clip to ``window`` = (lo, hi) in HU, then (v - lo) / (hi - lo) in [0, 1]) or None.

    ``zscore`` is ``(v - mean) / max(std, 1e-6)`` over the whole volume; ``percentile`` clips to the
    volume's ``percentiles`` (lo, hi) and scales by ``max(hi - lo, 1e-6)``.

    Args:
        vol (np.ndarray): the volume, any shape and numeric dtype (cast to float32).
        method (str, optional): ``'zscore'``, ``'percentile'``, ``'window'``, or None (only the cast).
        percentiles (tuple[float, float]): the (lo, hi) percentiles, in [0, 100], of ``'percentile'``.
            Defaults to (0.5, 99.5).
        window (Sequence[float]): the (lo, hi) window in HU of ``'window'``: two finite numbers, lo < hi.
            Defaults to ``CT_WINDOW``, (-1000.0, 400.0).

    Returns:
        np.ndarray: the normalised volume, float32, same shape.

    Raises:
        ValueError: an unknown ``method``, or a bad ``window`` with ``'window'``.
    """
    vol = vol.astype(np.float32)
    if method is None:
        return vol
    if method == 'zscore':
        return (vol - vol.mean()) / max(float(vol.std()), 1e-6)
    if method == 'percentile':
        lo, hi = np.percentile(vol, percentiles)
        # numpy's percentiles are float64 and would promote the volume
        return ((np.clip(vol, lo, hi) - lo) / max(float(hi - lo), 1e-6)).astype(np.float32)
    if method == 'window':
        lo, hi = check_window(window)
        # float64 arithmetic: a float32 window edge of e.g. 400.1 would not clip to exactly 1
        return ((np.clip(vol.astype(np.float64), lo, hi) - lo) / (hi - lo)).astype(np.float32)
    raise ValueError(f"normalize must be 'zscore', 'percentile', 'window' or None, got {method!r}")


def load_nifti(path: str) -> Tuple[np.ndarray, Tuple[float, ...]]:
    """Array and voxel spacing (mm) of a NIfTI file; the error names the file.

    Args:
        path (str): a ``.nii`` / ``.nii.gz`` file (read with nibabel).

    Returns:
        tuple: the 3-D array (``np.asanyarray(img.dataobj)``: x, y, z order; the header's dtype, or float
        when it scales the values) and the spacing (3 floats, mm, the header's first 3 zooms).

    Raises:
        FileNotFoundError: naming the file.
        ValueError: naming the file: unreadable, or not a 3-D volume.
    """
    import nibabel as nib
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except FileNotFoundError:
        raise FileNotFoundError(f'NIfTI file not found: {path}') from None
    except Exception as err:   # nibabel raises several types for corrupt files
        raise ValueError(f'{path}: cannot read NIfTI ({err})') from None
    if data.ndim != 3:
        raise ValueError(f'{path}: expected a 3-D volume, got shape {data.shape}')
    return data, tuple(float(z) for z in img.header.get_zooms()[:3])


def save_nifti(path: str, vol: np.ndarray, spacing: Sequence[float]) -> None:
    """Write a 3-D array (x, y, z order, as nibabel reads it back) with an axis-aligned affine of ``spacing``.

    Args:
        path (str): the file to write (``.nii`` or ``.nii.gz``: nibabel picks the format by the name).
        vol (np.ndarray): the 3-D volume, written with its dtype.
        spacing (Sequence[float]): the 3 voxel sizes (mm), the diagonal of the affine (origin 0).

    Raises:
        ValueError: ``vol`` is not 3-D or ``spacing`` has not 3 values.
    """
    import nibabel as nib
    if vol.ndim != 3 or len(spacing) != 3:
        raise ValueError(f'{path}: need a 3-D volume and 3 spacings, got shape {vol.shape}, spacing {spacing}')
    nib.save(nib.Nifti1Image(np.ascontiguousarray(vol), np.diag([*map(float, spacing), 1.0])), path)


@DATASETS.register_module()
class MedicalSliceDataset(BaseDataset):
    """Serve 2-D slices of NIfTI volumes: ``data_root/img_dir/<case>.nii.gz`` (+ ``label_dir`` for labels).

    Each item has ``img`` (H, W) float32, ``gt_seg_map`` (H, W) uint8 if labelled, and the meta
    ``case_id``, ``slice_idx``, ``num_slices``, ``slice_axis`` and ``spacing`` (of the whole volume).
    Errors name the file: unreadable volume, non-finite (NaN / inf) image voxels, label shape differing
    from its image, non-integer labels, labels outside [0, num_classes).

    Args:
        img_dir (str): folder of image volumes, relative to ``data_root`` unless absolute.
            Defaults to ``'images'``.
        label_dir (str, optional): folder of label volumes with the same names; None for unlabelled data
            (e.g. the target domain during source-free adaptation). Defaults to ``'labels'``.
        slice_axis (int): axis along which volumes are cut into slices. Defaults to 2 (z).
        slice_filter (str): ``all`` or ``foreground`` (only slices whose label has a non-zero class;
            needs ``label_dir``). Defaults to ``'all'``.
        normalize (str, optional): ``zscore`` or ``percentile`` per volume, ``window`` (CT: clip to
            ``window`` in HU and scale to [0, 1]), or None (see :func:`normalize_volume`).
            Defaults to ``'zscore'``.
        percentiles (Sequence[float]): (lo, hi) percentiles, in [0, 100], of ``normalize='percentile'``.
            Defaults to (0.5, 99.5).
        suffix (str): file suffix; it is stripped from the file name to give ``case_id``.
            Defaults to ``'.nii.gz'``.
        domain (str, optional): ``source`` or ``target`` (any case, surrounding blanks ignored), or None;
            ``SourceFreeCheckHook`` refuses adaptation on training data marked ``source``. Defaults to None.
        window (Sequence[float]): (lo, hi) HU window of ``normalize='window'``; two finite numbers, lo < hi
            (checked whatever ``normalize``). Defaults to ``CT_WINDOW``, (-1000.0, 400.0).
        **kwargs: the arguments of mmengine's ``BaseDataset`` (``data_root``, ``metainfo``, ``pipeline``,
            ``test_mode``, ``indices``...); ``serialize_data`` defaults to False here (items hold arrays).
            The number of metainfo ``classes`` bounds the label values.
    """

    METAINFO = dict(classes=('background', 'foreground'), palette=[(0, 0, 0), (255, 0, 0)])

    def __init__(self, img_dir: str = 'images', label_dir: Optional[str] = 'labels', slice_axis: int = 2,
                 slice_filter: str = 'all', normalize: Optional[str] = 'zscore',
                 percentiles: Sequence[float] = (0.5, 99.5), suffix: str = '.nii.gz', domain: Optional[str] = None,
                 window: Sequence[float] = CT_WINDOW, **kwargs) -> None:
        if slice_filter not in ('all', 'foreground'):
            raise ValueError(f"slice_filter must be 'all' or 'foreground', got {slice_filter!r}")
        if slice_filter == 'foreground' and label_dir is None:
            raise ValueError("slice_filter='foreground' needs labels (label_dir)")
        self.img_dir, self.label_dir, self.slice_axis = img_dir, label_dir, slice_axis
        self.slice_filter, self.normalize, self.percentiles = slice_filter, normalize, tuple(percentiles)
        self.window = check_window(window, f'MedicalSliceDataset(img_dir={img_dir!r}): window')
        domain = normalize_domain(domain)
        if domain is not None and domain not in DOMAINS:
            raise ValueError(f'MedicalSliceDataset(img_dir={img_dir!r}): domain must be one of {DOMAINS} or None, '
                             f'got {domain!r}')
        self.suffix, self.domain = suffix, domain
        kwargs.setdefault('serialize_data', False)   # items hold arrays; no need to pickle them per worker
        super().__init__(**kwargs)

    def _path(self, sub: str) -> str:
        return sub if osp.isabs(sub) else osp.join(self.data_root or '', sub)

    def load_data_list(self) -> List[dict]:
        num_classes = len(self.metainfo['classes'])
        img_dir = self._path(self.img_dir)
        files = sorted(glob.glob(osp.join(img_dir, '*' + self.suffix)))
        if not files:
            raise FileNotFoundError(f"no '*{self.suffix}' volumes in {img_dir} (img_dir)")
        data_list = []
        for path in files:
            case = osp.basename(path)[:-len(self.suffix)]
            vol, spacing = load_nifti(path)
            check_finite(vol, path)
            label = None
            if self.label_dir is not None:
                label_path = osp.join(self._path(self.label_dir), case + self.suffix)
                raw, _ = load_nifti(label_path)
                if raw.shape != vol.shape:
                    raise ValueError(f'{label_path}: label shape {raw.shape} differs from image {vol.shape} ({path})')
                label = check_labels(raw, label_path, num_classes).astype(np.uint8)
            vol = normalize_volume(vol, self.normalize, self.percentiles, self.window)
            n = vol.shape[self.slice_axis]
            for k in range(n):
                lab = None if label is None else np.take(label, k, axis=self.slice_axis)
                if self.slice_filter == 'foreground' and not lab.any():
                    continue
                img = np.ascontiguousarray(np.take(vol, k, axis=self.slice_axis))
                item = dict(img=img, img_path=path, case_id=case, slice_idx=k, num_slices=n,
                            slice_axis=self.slice_axis, spacing=spacing, ori_shape=img.shape,
                            img_shape=img.shape, reduce_zero_label=False, seg_fields=[])
                if lab is not None:
                    item['gt_seg_map'] = np.ascontiguousarray(lab)
                    item['seg_map_path'] = label_path
                    item['seg_fields'] = ['gt_seg_map']
                data_list.append(item)
        return data_list
