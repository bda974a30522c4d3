"""Per-volume segmentation metric (Dice, ASSD, HD95 in mm), averaged over volumes."""
from collections import OrderedDict, defaultdict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from visiondiv.registry import METRICS
from ..functional import volume_metrics


@METRICS.register_module()
class MedicalVolumeMetric(BaseMetric):
    """Reassemble predicted slices into volumes (by ``case_id`` / ``slice_idx`` / ``slice_axis``),
    then Dice, ASSD and HD95 per class and volume in mm (``spacing``), reported as the mean over volumes.

    Slices a dataset filtered out (e.g. background-only slices) count as predicted and labelled
    background, so filtered evaluation sets measure only the kept slices.

    Args:
        measures (Sequence[str]): any of ``dice``, ``assd``, ``hd95`` (not ``metrics``: mmengine reads
            that key as an Evaluator config).
        include_background (bool): also report class 0.
    """

    default_prefix: Optional[str] = 'med'

    def __init__(self, measures: Sequence[str] = ('dice', 'assd', 'hd95'), include_background: bool = False,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(measures) - {'dice', 'assd', 'hd95'}
        if unknown:
            raise KeyError(f'unknown measures {sorted(unknown)}; use dice, assd, hd95')
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
            per_case.append(volume_metrics(pred, gt, len(classes), first['spacing'], self.include_background))
        start = 0 if self.include_background else 1
        out = OrderedDict()
        for metric in self.measures:
            values = np.array([c[metric] for c in per_case], float)   # (cases, classes)
            for k, name in enumerate(classes[start:]):
                out[f'{metric}_{name}'] = float(np.nanmean(values[:, k])) if np.isfinite(values[:, k]).any() \
                    else float('nan')
            out[f'm{metric}'] = float(np.nanmean(values)) if np.isfinite(values).any() else float('nan')
        MMLogger.get_current_instance().info(
            f'{len(per_case)} volumes: ' + ', '.join(f'{k}={v:.4f}' for k, v in out.items()))
        return out
