"""Per-volume segmentation metrics in physical units: Dice, ASSD and HD95 (MONAI conventions).

Surfaces are the mask voxels with at least one face neighbour (6-connectivity in
3-D, 4 in 2-D) outside the mask; distances between surface voxel centres are
Euclidean in mm from the voxel ``spacing``. ASSD averages the concatenated
distances of both directions (MONAI ``SurfaceDistanceMetric(symmetric=True)``);
HD95 is the larger of the two directed 95th percentiles (MONAI
``HausdorffDistanceMetric(percentile=95)``). An empty ground truth gives NaN for
every metric, and an empty prediction against a non-empty ground truth gives
Dice 0 and NaN distances (no surface to measure).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage


def dice_score(pred: np.ndarray, gt: np.ndarray) -> float:
    """2|P ∩ G| / (|P| + |G|) of two boolean masks; NaN when the ground truth is empty."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if not gt.any():
        return float('nan')
    return float(2 * np.logical_and(pred, gt).sum() / (pred.sum() + gt.sum()))


def mask_surface(mask: np.ndarray) -> np.ndarray:
    """Boolean surface of a mask: its voxels that touch the background through a face."""
    mask = np.asarray(mask, bool)
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def _directed(surface_from: np.ndarray, surface_to: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    # distance of every voxel to the nearest voxel of surface_to, read at surface_from's voxels
    dist = ndimage.distance_transform_edt(~surface_to, sampling=spacing)
    return dist[surface_from]


def surface_distances(pred: np.ndarray, gt: np.ndarray,
                      spacing: Optional[Sequence[float]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Distances (mm) from pred's surface to gt's surface, and from gt's to pred's."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground truth {gt.shape}')
    spacing = tuple(spacing) if spacing is not None else (1.0,) * gt.ndim
    if len(spacing) != gt.ndim:
        raise ValueError(f'spacing {spacing} does not match a {gt.ndim}-D volume')
    sp, sg = mask_surface(pred), mask_surface(gt)
    return _directed(sp, sg, spacing), _directed(sg, sp, spacing)


def assd(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]] = None) -> float:
    """Average symmetric surface distance in mm (NaN if either mask is empty)."""
    if not np.any(pred) or not np.any(gt):
        return float('nan')
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    return float(np.concatenate([d_pg, d_gp]).mean())


def hd95(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]] = None) -> float:
    """95th-percentile Hausdorff distance in mm (NaN if either mask is empty)."""
    if not np.any(pred) or not np.any(gt):
        return float('nan')
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    return float(max(np.percentile(d_pg, 95), np.percentile(d_gp, 95)))


def volume_metrics(pred: np.ndarray, gt: np.ndarray, num_classes: int,
                   spacing: Optional[Sequence[float]] = None, include_background: bool = False) -> dict:
    """Per-class Dice, ASSD and HD95 of one labelled volume: {'dice': [..], 'assd': [..], 'hd95': [..]}."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground truth {gt.shape}')
    classes = range(0 if include_background else 1, num_classes)
    out = dict(dice=[], assd=[], hd95=[])
    for c in classes:
        p, g = pred == c, gt == c
        out['dice'].append(dice_score(p, g))
        out['assd'].append(assd(p, g, spacing))
        out['hd95'].append(hd95(p, g, spacing))
    return out
