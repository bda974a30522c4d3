"""MedicalVolumeMetric: means over volumes with missed / spurious structures penalised and counted."""
import math

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from tests.script_loader import load_script
from visiondiv.evaluation import MedicalVolumeMetric


def feed(metric, case, pred, gt, spacing, axis=2):
    """Process one volume slice by slice along ``axis``, as the dataset serves it; return the slice count."""
    n = gt.shape[axis]

    def seg(vol, k):
        return dict(data=torch.from_numpy(np.take(vol, k, axis).astype(np.uint8))[None])
    for k in range(n):
        metric.process({}, [dict(case_id=case, slice_idx=k, num_slices=n, slice_axis=axis, spacing=spacing,
                                 pred_sem_seg=seg(pred, k), gt_sem_seg=seg(gt, k))])
    return n


def build(classes=('background', 'organ')):
    metric = MedicalVolumeMetric()
    metric.dataset_meta = dict(classes=classes)
    return metric


def organ(shape=(8, 10, 6)):
    gt = np.zeros(shape, np.uint8)
    gt[2:6, 3:8, 1:5] = 1
    return gt


def test_missed_structure_is_penalised_and_counted():
    """The reproduced case: one perfect volume and one whose organ is missed (was: dice 0.5, assd 0, hd95 0)."""
    spacing = (0.8, 1.0, 2.5)
    diagonal = math.sqrt((8 * 0.8) ** 2 + (10 * 1.0) ** 2 + (6 * 2.5) ** 2)
    metric = build()
    gt = organ()
    size = feed(metric, 'perfect', gt, gt, spacing) + feed(metric, 'missed', np.zeros_like(gt), gt, spacing)
    res = metric.evaluate(size)
    assert res['med/dice_organ'] == pytest.approx(0.5) and res['med/mdice'] == pytest.approx(0.5)
    for key in ('hd95_organ', 'mhd95', 'assd_organ', 'massd'):
        assert res[f'med/{key}'] == pytest.approx(diagonal / 2, rel=1e-12), key
    assert (res['med/missed_organ'], res['med/spurious_organ'], res['med/absent_organ']) == (1, 0, 0)


def test_empty_ground_truth_is_left_out_and_counted():
    """GT empty: Dice NaN in every case (MONAI ignore_empty); distances NaN if the prediction is empty too
    (left out), inf if it is not (MONAI), averaged as that volume's own diagonal."""
    metric = build()
    gt = organ()
    small = (4, 5, 3)
    size = (feed(metric, 'perfect', gt, gt, (1.0, 1.0, 1.0))
            + feed(metric, 'absent', np.zeros(small, np.uint8), np.zeros(small, np.uint8), (1.0, 1.0, 1.0)))
    res = metric.evaluate(size)
    assert res['med/dice_organ'] == 1.0 and res['med/hd95_organ'] == 0.0 and res['med/assd_organ'] == 0.0
    assert (res['med/missed_organ'], res['med/spurious_organ'], res['med/absent_organ']) == (0, 0, 1)

    metric = build()
    spurious = np.zeros(small, np.uint8)
    spurious[1:3, 1:3, 1] = 1
    size = (feed(metric, 'perfect', gt, gt, (1.0, 1.0, 1.0))
            + feed(metric, 'spurious', spurious, np.zeros(small, np.uint8), (2.0, 1.0, 1.0)))
    res = metric.evaluate(size)
    assert res['med/dice_organ'] == 1.0                                     # the spurious volume has no Dice
    assert res['med/hd95_organ'] == pytest.approx(math.sqrt(8 ** 2 + 5 ** 2 + 3 ** 2) / 2, rel=1e-12)
    assert (res['med/missed_organ'], res['med/spurious_organ'], res['med/absent_organ']) == (0, 1, 0)

    metric = build()
    size = feed(metric, 'absent', np.zeros(small, np.uint8), np.zeros(small, np.uint8), (1.0, 1.0, 1.0))
    res = metric.evaluate(size)
    assert all(np.isnan(res[f'med/{k}']) for k in ('dice_organ', 'assd_organ', 'hd95_organ', 'mdice'))


def test_offset_cube_closed_form_through_slices():
    """A cube of side 6 shifted 1 voxel along x (spacing 0.8 < 1.0, 2.5), cut into slices along y: HD95 is
    the shift, 0.8 mm; ASSD = 0.8 * (16 + 36) / (6 * 36 - 72 + 8) (see test_surface_distance)."""
    gt = np.zeros((12, 10, 10), np.uint8)
    gt[2:8, 2:8, 2:8] = 1
    pred = np.roll(gt, 1, axis=0)
    metric = build()
    res = metric.evaluate(feed(metric, 'shifted', pred, gt, (0.8, 1.0, 2.5), axis=1))
    assert res['med/hd95_organ'] == pytest.approx(0.8, rel=1e-12)
    assert res['med/assd_organ'] == pytest.approx(0.8 * 52 / 152, rel=1e-12)
    assert res['med/dice_organ'] == pytest.approx(2 * 5 * 36 / (2 * 216))


def test_two_classes_and_the_logged_line_the_study_reads(tmp_path):
    """Counts are per class; benchmarks/sfda_study.py reads means and counts back from the logged line."""
    log_file = tmp_path / 'metric.log'
    MMLogger.get_instance('test_medical_metric', log_file=str(log_file))     # becomes the current logger
    metric = build(('background', 'organ', 'lesion'))
    gt = organ()
    gt[3:5, 4:6, 2:4] = 2
    pred = gt.copy()
    pred[pred == 2] = 1                                                        # lesion missed
    size = feed(metric, 'a', pred, gt, (1.0, 1.0, 1.0)) + feed(metric, 'b', gt, gt, (1.0, 1.0, 1.0))
    res = metric.evaluate(size)
    assert (res['med/missed_organ'], res['med/missed_lesion']) == (0, 1)
    assert res['med/hd95_lesion'] == pytest.approx(math.sqrt(64 + 100 + 36) / 2, rel=1e-12)
    study = load_script('benchmarks', 'sfda_study.py')
    parsed = study.parse_metrics(log_file.read_text())
    assert parsed['volumes'] == 2 and parsed['missed_lesion'] == 1 and parsed['missed_organ'] == 0
    assert parsed['hd95_lesion'] == pytest.approx(res['med/hd95_lesion'], abs=1e-4)
    # ... and the study table shows them: missed volumes over all seeds, no note about uncounted runs
    tables = load_script('benchmarks', 'result_tables.py')
    text = tables.sfda_study_table({'source only/0': dict(parsed, mdice=0.5), 'oracle/0': parsed},
                                   ['source only', 'oracle'])
    row = next(ln for ln in text.splitlines() if ln.startswith('| source only |'))
    assert row.endswith(f"| {parsed['mhd95']:.3f} | 0 / 2 | 1 / 2 | 1 (0) |") and 'measured before' not in text


def test_volume_ratio_closed_form():
    """Volume ratio = predicted / ground-truth voxels per volume, averaged: a 4x5x4 organ predicted as 4x5x2
    (ratio 0.5) and as 4x5x6 on a 6-voxel-deep volume (ratio 1.5); a missed organ counts 0, an empty ground
    truth is left out."""
    metric = MedicalVolumeMetric(measures=('volume_ratio',))
    metric.dataset_meta = dict(classes=('background', 'organ'))
    gt = organ()                       # organ at [2:6, 3:8, 1:5]: 4 * 5 * 4 voxels
    half, big = np.zeros_like(gt), np.zeros_like(gt)
    half[2:6, 3:8, 1:3] = 1
    big[2:6, 3:8, 0:6] = 1
    size = feed(metric, 'half', half, gt, (1.0, 1.0, 1.0)) + feed(metric, 'big', big, gt, (1.0, 1.0, 1.0))
    res = metric.evaluate(size)
    assert res['med/volume_ratio_organ'] == pytest.approx((0.5 + 1.5) / 2, rel=1e-12)
    assert res['med/mvolume_ratio'] == pytest.approx(1.0, rel=1e-12)

    metric = MedicalVolumeMetric(measures=('volume_ratio',))
    metric.dataset_meta = dict(classes=('background', 'organ'))
    size = (feed(metric, 'missed', np.zeros_like(gt), gt, (1.0, 1.0, 1.0))
            + feed(metric, 'empty', half, np.zeros_like(gt), (1.0, 1.0, 1.0)))
    assert metric.evaluate(size)['med/volume_ratio_organ'] == 0.0


def test_unknown_measure_is_named():
    with pytest.raises(KeyError, match="unknown measures \\['volume'\\]"):
        MedicalVolumeMetric(measures=('dice', 'volume'))
