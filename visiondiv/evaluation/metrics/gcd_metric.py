"""GCD clustering accuracy (All / Old / New) over an evaluation set, from the model's predicted labels."""
import logging
import math
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from visiondiv.registry import METRICS
from .utils import sample_field
from ..functional.gcd_accuracy import EVAL_FUNCS


def _scalar(value: Any, key: str, index: int) -> Union[int, bool]:
    """One integer (or bool for ``old``) out of an int / bool / one-element array or tensor."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.size != 1 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f'GCDAccuracy: data sample {index}: {key!r} must be one number, got {value!r}')
    v = arr.reshape(()).item()
    if key == 'old':
        if v not in (0, 1):
            raise ValueError(f"GCDAccuracy: data sample {index}: 'old' must be a bool, got {value!r}")
        return bool(v)
    if isinstance(v, bool) or not math.isfinite(v) or v != int(v) or v < 0:
        raise ValueError(f'GCDAccuracy: data sample {index}: {key!r} must be a non-negative integer, got {value!r}')
    return int(v)


@METRICS.register_module()
class GCDAccuracy(BaseMetric):
    """Generalized Category Discovery accuracy, in percent (x100, rounded to 2 decimals).

    Reads from every data sample (see the issue-11 contract) the data fields ``gt_label`` (class index
    remapped so that old classes come first) and ``pred_label`` (cluster id), and the metainfo ``old``
    (True for a sample of a known class). The numbers are
    :mod:`visiondiv.evaluation.functional.gcd_accuracy`'s fractions x100: the first of ``eval_funcs``
    (``v2`` by default: one Hungarian assignment over all classes, the number SimGCD / LegoGCD publish)
    gives ``All``, ``Old``, ``New``; each further one ``<name>/All``, ``<name>/Old``, ``<name>/New``.
    ``Old`` / ``New`` are NaN (with a logged warning) when the set holds no sample of that kind.

    Under distributed evaluation mmengine's ``BaseMetric`` gathers every rank's samples (one result per
    sample, so the sampler's padding is dropped) and the assignment is computed once over the whole
    set; SimGCD instead sums per-rank matched counts.

    Args:
        eval_funcs (str | Sequence[str]): distinct names among ``'v2'``, ``'v2b'``, ``'v1'`` (one name or
            several); the first is the headline. Defaults to ('v2', 'v2b', 'v1').
        collect_device (str): 'cpu' or 'gpu', for gathering results across ranks. Defaults to 'cpu'.
        prefix (str, optional): key prefix; None keeps the keys above as they are. Defaults to None.

    Raises:
        ValueError: ``eval_funcs`` empty, with an unknown name or a repeated one.
    """

    def __init__(self, eval_funcs: Union[str, Sequence[str]] = ('v2', 'v2b', 'v1'), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        names = (eval_funcs,) if isinstance(eval_funcs, str) else tuple(eval_funcs)
        unknown = [n for n in names if n not in EVAL_FUNCS]
        if not names or unknown or len(set(names)) != len(names):
            raise ValueError(f'GCDAccuracy: eval_funcs must be distinct names among {sorted(EVAL_FUNCS)}, '
                             f'got {eval_funcs!r}')
        self.eval_funcs = names

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep ``(gt_label, pred_label, old)`` of each data sample."""
        for i, sample in enumerate(data_samples):
            self.results.append(tuple(_scalar(sample_field(sample, key, i, 'GCDAccuracy'), key, i)
                                      for key in ('gt_label', 'pred_label', 'old')))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """All / Old / New in percent for each of ``eval_funcs`` (see the class docstring)."""
        if not results:
            raise ValueError('GCDAccuracy: no data samples were processed')
        gt, pred, old = (np.asarray(col) for col in zip(*results))
        old = old.astype(bool)
        for kind, present in (('Old', old.any()), ('New', (~old).any())):
            if not present:
                print_log(f'GCDAccuracy: the evaluation set has no {kind.lower()}-class sample; {kind} is NaN',
                          logger='current', level=logging.WARNING)
        metrics = {}
        for j, name in enumerate(self.eval_funcs):
            try:
                accs = EVAL_FUNCS[name](gt, pred, old)
            except ValueError as err:   # the functional names y_true / y_pred / mask
                raise ValueError(f"GCDAccuracy: gt_label / pred_label / 'old' (as y_true / y_pred / mask): {err}") \
                    from None
            for kind, acc in zip(('All', 'Old', 'New'), accs):
                metrics[kind if j == 0 else f'{name}/{kind}'] = round(100.0 * acc, 2)
        return metrics
