"""Dice / ASSD / HD95 against closed forms and a brute-force float64 reference written here."""
import math

import numpy as np
import pytest

from visiondiv.evaluation import assd, dice_score, hd95, volume_diagonal, volume_metrics


def brute_force(pred, gt, spacing):
    """Surface voxels (a face neighbour outside, image border counts as outside) and all-pairs distances."""
    def surface(mask):
        padded = np.pad(mask, 1)
        inner = np.ones_like(mask)
        for axis in range(mask.ndim):
            for shift in (-1, 1):
                inner &= np.roll(padded, shift, axis)[tuple(slice(1, -1) for _ in range(mask.ndim))]
        return np.argwhere(mask & ~inner) * np.asarray(spacing, float)
    a, b = surface(pred), surface(gt)
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    d_ab, d_ba = d.min(1), d.min(0)
    return np.concatenate([d_ab, d_ba]).mean(), max(np.percentile(d_ab, 95), np.percentile(d_ba, 95))


def sphere(shape, center, radius, spacing=(1, 1, 1)):
    grid = np.stack(np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing='ij'), -1)
    return np.linalg.norm(grid - np.asarray(center) * np.asarray(spacing), axis=-1) <= radius


def test_dice_closed_form():
    gt = np.zeros((10, 10), bool)
    gt[2:6, 2:6] = True              # 16 voxels
    pred = np.zeros_like(gt)
    pred[4:8, 2:6] = True            # 16 voxels, 8 shared
    assert dice_score(pred, gt) == pytest.approx(2 * 8 / 32)
    assert np.isnan(dice_score(pred, np.zeros_like(gt)))     # empty GT: NaN (MONAI ignore_empty)
    assert np.isnan(dice_score(np.zeros_like(gt), np.zeros_like(gt)))   # both empty too (MONAI compute_dice)
    assert dice_score(np.zeros_like(gt), gt) == 0.0


def test_empty_masks_follow_monai():
    """MONAI 1.6.1 on a 4-voxel cube: missed and spurious structures give inf distances, both empty NaN."""
    cube = np.zeros((10, 10, 10), bool)
    cube[2:6, 2:6, 2:6] = True
    empty = np.zeros_like(cube)
    for pred, gt, dice in ((empty, cube, 0.0), (cube, empty, float('nan'))):
        assert dice_score(pred, gt) == pytest.approx(dice, nan_ok=True)
        assert assd(pred, gt, (1, 2, 3)) == math.inf and hd95(pred, gt, (1, 2, 3)) == math.inf
    assert np.isnan(assd(empty, empty)) and np.isnan(hd95(empty, empty))
    with pytest.raises(ValueError, match='differs'):        # shapes are checked for empty masks too
        hd95(empty[:5], cube)


@pytest.mark.parametrize('n,k,axis,spacing', [(8, 2, 0, (0.5, 1.5, 2.0)), (9, 3, 2, (1.5, 2.0, 0.5)),
                                              (6, 1, 1, (1.2, 0.8, 1.0))])
def test_offset_cubes_closed_form(n, k, axis, spacing):
    """Cube of side n, the prediction shifted k voxels along ``axis`` (spacing s there, k*s below the other
    spacings, 2k < n). By symmetry both directed distance sets equal {0: (n-k)(4n-4) voxels of the side walls;
    k*s: the (n-2)^2 inner voxels of the shifted face and the n^2 of the far face; j*s, j < k: the 4n-4 wall
    voxels of each layer outside}; the top third of them is k*s, so HD95 = k*s."""
    gt = np.zeros((n + 2 * k + 4,) * 3, bool)
    gt[2:2 + n, 2:2 + n, 2:2 + n] = True
    pred = np.roll(gt, k, axis=axis)
    s = spacing[axis]
    surface = 6 * n * n - 12 * n + 8
    total = k * ((n - 2) ** 2 + n ** 2) + (4 * n - 4) * k * (k - 1) / 2
    assert assd(pred, gt, spacing) == pytest.approx(s * total / surface, rel=1e-12)
    assert hd95(pred, gt, spacing) == pytest.approx(k * s, rel=1e-12)
    assert hd95(gt, pred, spacing) == pytest.approx(k * s, rel=1e-12)


def test_volume_diagonal():
    assert volume_diagonal((3, 4, 12)) == pytest.approx(13.0)
    assert volume_diagonal((48, 48, 16), (1, 1, 2.5)) == pytest.approx(math.sqrt(48 ** 2 * 2 + 40 ** 2))
    with pytest.raises(ValueError, match='spacing'):
        volume_diagonal((3, 4), (1, 1, 1))


def test_concentric_spheres_distance_is_radius_gap():
    shape, c = (40, 40, 40), (20, 20, 20)
    gt, pred = sphere(shape, c, 12), sphere(shape, c, 8)
    # every surface point is ~4 voxels from the other sphere; voxelisation adds < 1 voxel
    assert assd(pred, gt) == pytest.approx(4.0, abs=0.8)
    assert hd95(pred, gt) == pytest.approx(4.0, abs=1.2)


def test_against_brute_force_with_anisotropic_spacing():
    rng = np.random.default_rng(0)
    gt = np.zeros((14, 16, 12), bool)
    gt[3:10, 4:12, 2:9] = True
    pred = np.roll(gt, 2, axis=0) & (rng.random(gt.shape) > 0.1)
    spacing = (0.8, 1.2, 2.5)
    ref_assd, ref_hd = brute_force(pred, gt, spacing)
    assert assd(pred, gt, spacing) == pytest.approx(ref_assd, rel=1e-9)
    assert hd95(pred, gt, spacing) == pytest.approx(ref_hd, rel=1e-9)
    # doubling the spacing doubles every distance
    assert assd(pred, gt, [2 * s for s in spacing]) == pytest.approx(2 * ref_assd, rel=1e-9)


def test_volume_metrics_per_class_and_errors():
    gt = np.zeros((20, 20, 20), int)
    gt[2:8, 2:8, 2:8] = 1
    gt[10:18, 10:18, 10:18] = 2
    m = volume_metrics(gt, gt, num_classes=3, spacing=(1, 1, 2))
    assert m['dice'] == [1.0, 1.0] and m['assd'] == [0.0, 0.0] and m['hd95'] == [0.0, 0.0]
    pred = gt.copy()
    pred[pred == 2] = 0
    m = volume_metrics(pred, gt, num_classes=3)
    assert m['dice'][1] == 0.0 and m['assd'][1] == math.inf and m['hd95'][1] == math.inf
    assert m['in_gt'] == [True, True] and m['in_pred'] == [True, False]
    with pytest.raises(ValueError, match='differs'):
        volume_metrics(gt[:5], gt, num_classes=3)
    with pytest.raises(ValueError, match='spacing'):
        assd(gt == 1, gt == 1, spacing=(1, 1))
