"""Per-volume segmentation metrics in physical units: Dice, ASSD and HD95 (MONAI conventions).

Surfaces are the mask voxels with at least one face neighbour (6-connectivity in
3-D, 4 in 2-D) outside the mask; distances between surface voxel centres are
Euclidean in mm from the voxel ``spacing``. ASSD averages the concatenated
distances of both directions (MONAI ``SurfaceDistanceMetric(symmetric=True)``);
HD95 is the larger of the two directed 95th percentiles (MONAI
``HausdorffDistanceMetric(percentile=95)``).

Empty masks, as MONAI 1.6 (``compute_dice``, ``compute_hausdorff_distance``,
``compute_average_surface_distance``):

=====================  ==========================  =================
ground truth           prediction                  Dice / distances
=====================  ==========================  =================
present                present                     measured
present                empty (missed structure)    0 / ``inf``
empty                  present (spurious)          NaN / ``inf``
empty                  empty                       NaN / NaN
=====================  ==========================  =================

Dice is NaN whenever the ground truth is empty (MONAI's default ``ignore_empty=True``).
A distance to a missing surface is ``inf``; averaging over volumes replaces it by a
finite penalty (:func:`volume_diagonal`, see ``MedicalVolumeMetric``). MONAI's own
HD95 of a missed structure comes out NaN only because ``torch.quantile`` of an all-``inf``
tensor is NaN; its Hausdorff distance and ASSD there are ``inf``, which is what is kept here.
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage


def dice_score(pred: np.ndarray, gt: np.ndarray) -> float:
    """2|P ∩ G| / (|P| + |G|) of two boolean masks; NaN when the ground truth is empty (MONAI ignore_empty).

    Args:
        pred (np.ndarray): Predicted mask, any number of dimensions; cast to bool.
        gt (np.ndarray): Ground-truth mask, the shape of ``pred``; cast to bool.

    Returns:
        float: Dice in [0, 1], or NaN when ``gt`` has no True voxel.
    """
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if not gt.any():
        return float('nan')
    return float(2 * np.logical_and(pred, gt).sum() / (pred.sum() + gt.sum()))


def mask_surface(mask: np.ndarray) -> np.ndarray:
    """Boolean surface of a mask: its voxels that touch the background through a face.

    Outside the array counts as background, so mask voxels on the array's border are surface too.

    Args:
        mask (np.ndarray): Mask of any number of dimensions; cast to bool.

    Returns:
        np.ndarray: Boolean, the shape of ``mask``; True on the surface voxels.
    """
    mask = np.asarray(mask, bool)
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def volume_diagonal(shape: Sequence[int], spacing: Optional[Sequence[float]] = None) -> float:
    """Length in mm of the volume's diagonal, sqrt(sum_i (shape_i * spacing_i)^2).

    No distance between two voxel centres of the volume exceeds it, so it is the finite penalty that
    stands in for an ``inf`` distance (a missed or spurious structure) when distances are averaged.

    Args:
        shape (Sequence[int]): Number of voxels along each axis.
        spacing (Sequence[float], optional): Voxel size in mm along each axis, the length of ``shape``.
            Defaults to None (1 mm along every axis).

    Returns:
        float: The diagonal in mm.

    Raises:
        ValueError: ``spacing`` whose length differs from ``shape``'s.
    """
    spacing = tuple(spacing) if spacing is not None else (1.0,) * len(shape)
    if len(spacing) != len(shape):
        raise ValueError(f'spacing {spacing} does not match a {len(shape)}-D volume')
    return math.sqrt(sum((n * s) ** 2 for n, s in zip(shape, spacing)))


def _directed(surface_from: np.ndarray, surface_to: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    # distance of every voxel to the nearest voxel of surface_to, read at surface_from's voxels
    dist = ndimage.distance_transform_edt(~surface_to, sampling=spacing)
    return dist[surface_from]


def _checked_spacing(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]]) -> Tuple[float, ...]:
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground truth {gt.shape}')
    spacing = tuple(spacing) if spacing is not None else (1.0,) * gt.ndim
    if len(spacing) != gt.ndim:
        raise ValueError(f'spacing {spacing} does not match a {gt.ndim}-D volume')
    return spacing


def surface_distances(pred: np.ndarray, gt: np.ndarray,
                      spacing: Optional[Sequence[float]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Distances (mm) from pred's surface to gt's surface, and from gt's to pred's (both masks non-empty).

    Args:
        pred (np.ndarray): Predicted mask, any number of dimensions; cast to bool.
        gt (np.ndarray): Ground-truth mask, the shape of ``pred``; cast to bool.
        spacing (Sequence[float], optional): Voxel size in mm along each axis of the masks, in array
            axis order. Defaults to None (1 mm along every axis).

    Returns:
        tuple[np.ndarray, np.ndarray]: For each surface voxel of ``pred``, its distance to the nearest
        surface voxel of ``gt``, and for each surface voxel of ``gt`` its distance to ``pred``'s; 1-D.

    Raises:
        ValueError: masks of different shapes, or ``spacing`` of another length than the masks' ndim.
    """
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    spacing = _checked_spacing(pred, gt, spacing)
    sp, sg = mask_surface(pred), mask_surface(gt)
    return _directed(sp, sg, spacing), _directed(sg, sp, spacing)


def _distances(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]]) -> Tuple[float, float]:
    """(ASSD, HD95) of two boolean masks, with the empty-mask conventions of the module docstring."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    has_pred, has_gt = pred.any(), gt.any()
    if not (has_pred and has_gt):
        _checked_spacing(pred, gt, spacing)    # the same errors as for a measured pair
        undefined = float('nan') if not (has_pred or has_gt) else float('inf')
        return undefined, undefined
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    return (float(np.concatenate([d_pg, d_gp]).mean()),
            float(max(np.percentile(d_pg, 95), np.percentile(d_gp, 95))))


def assd(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]] = None) -> float:
    """Average symmetric surface distance in mm; ``inf`` if exactly one mask is empty, NaN if both are.

    The mean of the concatenated distances of both directions (MONAI
    ``SurfaceDistanceMetric(symmetric=True)``).

    Args:
        pred (np.ndarray): Predicted mask, any number of dimensions; cast to bool.
        gt (np.ndarray): Ground-truth mask, the shape of ``pred``; cast to bool.
        spacing (Sequence[float], optional): Voxel size in mm along each axis of the masks, in array
            axis order. Defaults to None (1 mm along every axis).

    Returns:
        float: ASSD in mm.

    Raises:
        ValueError: masks of different shapes, or ``spacing`` of another length than the masks' ndim.
    """
    return _distances(pred, gt, spacing)[0]


def hd95(pred: np.ndarray, gt: np.ndarray, spacing: Optional[Sequence[float]] = None) -> float:
    """95th-percentile Hausdorff distance in mm; ``inf`` if exactly one mask is empty, NaN if both are.

    The larger of the two directed 95th percentiles (MONAI ``HausdorffDistanceMetric(percentile=95)``).

    Args:
        pred (np.ndarray): Predicted mask, any number of dimensions; cast to bool.
        gt (np.ndarray): Ground-truth mask, the shape of ``pred``; cast to bool.
        spacing (Sequence[float], optional): Voxel size in mm along each axis of the masks, in array
            axis order. Defaults to None (1 mm along every axis).

    Returns:
        float: HD95 in mm.

    Raises:
        ValueError: masks of different shapes, or ``spacing`` of another length than the masks' ndim.
    """
    return _distances(pred, gt, spacing)[1]


def volume_ratio(pred: np.ndarray, gt: np.ndarray) -> float:
    """Predicted over ground-truth volume (voxel counts; the spacing cancels); NaN if the ground truth is empty.

    Args:
        pred (np.ndarray): Predicted mask; its non-zero voxels are counted.
        gt (np.ndarray): Ground-truth mask; its non-zero voxels are counted.

    Returns:
        float: ``count_nonzero(pred) / count_nonzero(gt)``, >= 0, or NaN when ``gt`` is empty.
    """
    n_gt = int(np.count_nonzero(gt))
    return float(np.count_nonzero(pred)) / n_gt if n_gt else float('nan')


def volume_metrics(pred: np.ndarray, gt: np.ndarray, num_classes: int,
                   spacing: Optional[Sequence[float]] = None, include_background: bool = False) -> dict:
    """Per-class Dice, ASSD and HD95 of one labelled volume, and which classes each volume holds.

    Args:
        pred (np.ndarray): Predicted label map, integer class indices.
        gt (np.ndarray): Ground-truth label map, the shape of ``pred``.
        num_classes (int): Number of classes, background (class 0) included; classes are
            ``0 .. num_classes - 1``.
        spacing (Sequence[float], optional): Voxel size in mm along each axis of the masks, in array
            axis order. Defaults to None (1 mm along every axis).
        include_background (bool): Whether class 0 is measured too. Defaults to False.

    Returns:
        dict: lists over the classes (from 1, or 0 with ``include_background``): ``dice``, ``assd``,
        ``hd95`` (with the module's NaN / ``inf`` conventions), ``volume_ratio`` (:func:`volume_ratio`),
        and ``in_gt`` / ``in_pred`` (bool: the class has at least one voxel in the ground truth / the
        prediction).

    Raises:
        ValueError: label maps of different shapes, or ``spacing`` of another length than their ndim.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground truth {gt.shape}')
    classes = range(0 if include_background else 1, num_classes)
    out = dict(dice=[], assd=[], hd95=[], volume_ratio=[], in_gt=[], in_pred=[])
    for c in classes:
        p, g = pred == c, gt == c
        out['dice'].append(dice_score(p, g))
        a, h = _distances(p, g, spacing)
        out['assd'].append(a)
        out['hd95'].append(h)
        out['volume_ratio'].append(volume_ratio(p, g))
        out['in_gt'].append(bool(g.any()))
        out['in_pred'].append(bool(p.any()))
    return out
