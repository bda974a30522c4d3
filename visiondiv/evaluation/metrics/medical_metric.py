"""Per-volume segmentation metric (Dice, ASSD, HD95 in mm, volume ratio), averaged over volumes."""
from collections import OrderedDict, defaultdict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from visiondiv.registry import METRICS
from ..functional import volume_diagonal, volume_metrics


#: what MedicalVolumeMetric can report
MEASURES = ('dice', 'assd', 'hd95', 'volume_ratio')


@METRICS.register_module()
class MedicalVolumeMetric(BaseMetric):
    """Per-class Dice, ASSD, HD95 (mm) and volume ratio of volumes reassembled from slices.

    Reassemble predicted slices into volumes (by ``case_id`` / ``slice_idx`` / ``slice_axis``),
    then Dice, ASSD and HD95 per class and volume in mm (``spacing``) and the volume ratio (predicted over
    ground-truth volume, 1 is exact), reported as the mean over volumes.

    Slices a dataset filtered out (e.g. background-only slices) count as predicted and labelled
    background, so filtered evaluation sets measure only the kept slices.

    Empty structures follow MONAI (see :mod:`visiondiv.evaluation.functional.surface_distance`), and
    every volume a mean leaves out or penalises is counted, so a mean never hides a miss. Per volume
    and class, with ``diagonal`` the volume's diagonal in mm, sqrt(sum_i (shape_i * spacing_i)^2):

    - class in the ground truth, not in the prediction (*missed*): Dice 0; ASSD and HD95 are
      ``inf`` and enter the means as ``diagonal`` (no measured distance can exceed it);
    - class in the prediction, not in the ground truth (*spurious*): Dice NaN, left out of the Dice
      mean (MONAI ``ignore_empty=True``); ASSD and HD95 are ``inf`` and enter the means as ``diagonal``;
    - class in neither (*absent*): every measure NaN, left out of every mean.

    The volume ratio is NaN (left out) when the ground truth is empty, 0 for a missed structure.

    Keys (``<c>`` a class name; ``default_prefix`` ``med/`` before each):

    - ``dice_<c>``, ``assd_<c>``, ``hd95_<c>``, ``volume_ratio_<c>``: mean over volumes (only the requested
      ``measures``);
      NaN when every volume is left out;
    - ``mdice``, ``massd``, ``mhd95``, ``mvolume_ratio``: mean over volumes and classes;
    - ``missed_<c>``, ``spurious_<c>``, ``absent_<c>``: number of volumes of each kind above.

    Args:
        measures (Sequence[str]): any of ``dice``, ``assd``, ``hd95``, ``volume_ratio`` (not ``metrics``:
            mmengine reads that key as an Evaluator config). Defaults to ('dice', 'assd', 'hd95').
        include_background (bool): also report class 0. Defaults to False.
        collect_device (str): 'cpu' or 'gpu', for gathering results across ranks. Defaults to 'cpu'.
        prefix (str, optional): key prefix. Defaults to None (``default_prefix``, ``'med'``).

    Raises:
        KeyError: an unknown name in ``measures``.
    """

    default_prefix: Optional[str] = 'med'

    def __init__(self, measures: Sequence[str] = ('dice', 'assd', 'hd95'), include_background: bool = False,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(measures) - set(MEASURES)
        if unknown:
            raise KeyError(f'MedicalVolumeMetric: unknown measures {sorted(unknown)}; use {", ".join(MEASURES)}')
        self.measures, self.include_background = tuple(measures), include_background

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if 'gt_sem_seg' not in s:
                raise KeyError('MedicalVolumeMetric needs labelled slices (gt_sem_seg)')
            self.results.append(dict(
                case_id=s['case_id'], slice_idx=int(s['slice_idx']), num_slices=int(s['num_slices']),
                slice_axis=int(s['slice_axis']), spacing=tuple(s['spacing']),
                pred=s['pred_sem_seg']['data'].squeeze(0).cpu().numpy().astype(np.uint8),
                gt=s['gt_sem_seg']['data'].squeeze(0).cpu().numpy().astype(np.uint8)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        classes = self.dataset_meta['classes']
        cases = defaultdict(list)
        for r in results:
            cases[r['case_id']].append(r)
        per_case = []
        for case, slices in sorted(cases.items()):
            first = slices[0]
            shape = list(first['pred'].shape)
            shape.insert(first['slice_axis'], first['num_slices'])
            pred, gt = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
            index = [slice(None)] * 3
            for s in slices:
                index[first['slice_axis']] = s['slice_idx']
                pred[tuple(index)], gt[tuple(index)] = s['pred'], s['gt']
            m = volume_metrics(pred, gt, len(classes), first['spacing'], self.include_background)
            penalty = volume_diagonal(shape, first['spacing'])
            for key in ('assd', 'hd95'):
                m[key] = [penalty if v == float('inf') else v for v in m[key]]
            per_case.append(m)
        start = 0 if self.include_background else 1
        out = OrderedDict()
        for metric in self.measures:
            values = np.array([c[metric] for c in per_case], float)   # (cases, classes)
            for k, name in enumerate(classes[start:]):
                out[f'{metric}_{name}'] = _mean_of_defined(values[:, k])
            out[f'm{metric}'] = _mean_of_defined(values)
        in_gt = np.array([c['in_gt'] for c in per_case], bool)
        in_pred = np.array([c['in_pred'] for c in per_case], bool)
        for kind, mask in (('missed', in_gt & ~in_pred), ('spurious', ~in_gt & in_pred),
                           ('absent', ~in_gt & ~in_pred)):
            for k, name in enumerate(classes[start:]):
                out[f'{kind}_{name}'] = int(mask[:, k].sum())
        MMLogger.get_current_instance().info(
            f'{len(per_case)} volumes: ' + ', '.join(f'{k}={v}' if isinstance(v, int) else f'{k}={v:.4f}'
                                                     for k, v in out.items()))
        return out


def _mean_of_defined(values: np.ndarray) -> float:
    """Mean of the non-NaN entries; NaN when there are none."""
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float('nan')
