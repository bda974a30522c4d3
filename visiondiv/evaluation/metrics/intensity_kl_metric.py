"""Dataset-level intensity KL between translated (e.g. pseudo-MR) and reference (real MR) images."""
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from visiondiv.registry import METRICS
from .utils import sample_field
from ..functional.intensity_kl import (check_histogram_args, histogram_counts, intensity_kl, kl_from_histograms,
                                       select_values)


@METRICS.register_module()
class IntensityKL(BaseMetric):
    """KL(P_pred || P_ref) in nats between the intensity histograms of all predicted and all reference images.

    The histograms pool every value of the evaluation set (after the masks);
    :func:`visiondiv.evaluation.functional.intensity_kl` defines them and the KL. With a fixed
    ``value_range`` only the per-batch bin counts are kept (memory-light); with ``value_range=None``
    (the union of both ranges) the selected values are kept until :meth:`compute_metrics`.

    Args:
        pred_key (str): key of the translated image in each data sample (a tensor, (1, H, W) or (H, W)).
            Defaults to 'fake_mr'.
        ref_key (str): key of the reference image. Defaults to 'real_mr'.
        mask_key (str, optional): key of a boolean mask of ``pred_key``'s values; None for all.
            Defaults to None.
        ref_mask_key (str, optional): key of a boolean mask of ``ref_key``'s values; None for all.
            Defaults to None.
        bins (int): number of equal-width bins, >= 1. Defaults to 256.
        value_range (Sequence[float], optional): histogram range ``(lo, hi)``, values outside it are
            dropped; the translator's output range (-1, 1) by default; None for the union of the
            values' ranges. Defaults to (-1.0, 1.0).
        eps (float): smoothing mass added to every bin, >= 0. Defaults to 1e-10.
        prefix (str, optional): key prefix, ``translation/intensity_kl``. Defaults to 'translation'.
        collect_device (str): 'cpu' or 'gpu', for gathering results across ranks. Defaults to 'cpu'.

    Errors: a missing key names it and the keys present; NaN / inf values name the key and the sample.

    Raises:
        ValueError: ``bins`` < 1, ``eps`` < 0 or ``value_range`` not two finite numbers lo < hi.
    """

    def __init__(self, pred_key: str = 'fake_mr', ref_key: str = 'real_mr', mask_key: Optional[str] = None,
                 ref_mask_key: Optional[str] = None, bins: int = 256,
                 value_range: Optional[Sequence[float]] = (-1.0, 1.0), eps: float = 1e-10,
                 prefix: Optional[str] = 'translation', collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.value_range = check_histogram_args(bins, value_range, eps)
        self.pred_key, self.ref_key, self.mask_key, self.ref_mask_key = pred_key, ref_key, mask_key, ref_mask_key
        self.bins, self.eps = bins, eps

    def _values(self, sample: Any, index: int, key: str, mask_key: Optional[str]) -> np.ndarray:
        mask = None if mask_key is None else sample_field(sample, mask_key, index, 'IntensityKL')
        return select_values(sample_field(sample, key, index, 'IntensityKL'), mask, f'{key} (data sample {index})',
                             f'{mask_key} (data sample {index})')

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        pred = [self._values(s, i, self.pred_key, self.mask_key) for i, s in enumerate(data_samples)]
        ref = [self._values(s, i, self.ref_key, self.ref_mask_key) for i, s in enumerate(data_samples)]
        pred, ref = np.concatenate(pred or [np.zeros(0)]), np.concatenate(ref or [np.zeros(0)])
        if self.value_range is None:
            self.results.append(dict(pred=pred, ref=ref))
        else:       # np.histogram with fixed edges: counts of batches add up to the counts of their union
            self.results.append(dict(pred=histogram_counts(pred, self.bins, self.value_range),
                                     ref=histogram_counts(ref, self.bins, self.value_range)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        if not results:
            raise ValueError('IntensityKL: no data samples were processed')
        fixed = self.value_range is not None
        merge = (lambda xs: np.sum(xs, axis=0)) if fixed else np.concatenate
        pred, ref = merge([r['pred'] for r in results]), merge([r['ref'] for r in results])
        for key, v in ((self.pred_key, pred), (self.ref_key, ref)):
            if (v.sum() if fixed else v.size) == 0:
                where = f' in value_range {self.value_range}' if fixed else ''
                raise ValueError(f'IntensityKL: no {key} values{where} over the whole evaluation set')
        if fixed:
            return {'intensity_kl': kl_from_histograms(pred, ref, self.eps)}
        return {'intensity_kl': intensity_kl(pred, ref, self.bins, None, eps=self.eps)}
