"""Top-k accuracy of single-label classification (mmpretrain's ``Accuracy``: ``accuracy/top1``, ``accuracy/top5``)."""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from visiondiv.registry import METRICS
from .utils import sample_field


def _label(value: Any, key: str, index: int) -> int:
    arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        raise ValueError(f'Accuracy: data sample {index}: {key!r} must be one integer class index, got {value!r}')
    return int(arr.reshape(()))


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-k accuracy in percent, mmpretrain's ``Accuracy`` (keys ``accuracy/top1``, ``accuracy/top5``...).

    From each data sample it reads ``gt_label`` and ``pred_score`` ((num_classes, ) scores, as
    ``LinearClsHead.predict`` writes them) or, without scores, ``pred_label`` (then only ``top1`` is reported,
    as mmpretrain). As mmpretrain computes it:

    * a sample counts for top-k when its true class is among the k classes that ``torch.topk`` ranks first **and**
      its score is above ``thr`` (``thrs=0.0`` by default: a zero score never counts, even inside the top k);
    * ties are resolved by ``torch.topk`` as in mmpretrain (its order among equal scores is unspecified), so a
      true class tied with others across the k-th place may or may not count; ties that do not straddle the k-th
      place never matter.

    Args:
        topk (int | Sequence[int]): The k's, positive ints. Defaults to ``(1, 5)``.
        thrs (float | Sequence[float | None] | None): Score thresholds (a sample counts only when its true class
            scores above it); None for none. With several, keys get ``_thr-{thr:.2f}`` / ``_no-thr``.
            Defaults to 0.0.
        collect_device (str): ``'cpu'`` or ``'gpu'``, for gathering results across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to None (``'accuracy'``).

    Raises:
        ValueError: ``topk`` not positive ints; in ``compute_metrics``, a k above the number of classes (scores),
            scores of different lengths, or labels that are not integers.
    """

    default_prefix: Optional[str] = 'accuracy'

    def __init__(self, topk: Union[int, Sequence[int]] = (1, 5),
                 thrs: Union[float, Sequence[Optional[float]], None] = 0.0, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'Accuracy: topk must be positive ints, got {topk!r}')
        self.topk = topk
        self.thrs = (thrs, ) if thrs is None or isinstance(thrs, (int, float)) else tuple(thrs)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep ``gt_label`` and ``pred_score`` (or ``pred_label``) of each data sample.

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict | BaseDataElement]): The model's predictions.
        """
        for i, sample in enumerate(data_samples):
            result = dict(gt_label=_label(sample_field(sample, 'gt_label', i, 'Accuracy'), 'gt_label', i))
            has_score = sample.get('pred_score') is not None
            if has_score:
                score = sample_field(sample, 'pred_score', i, 'Accuracy')
                result['pred_score'] = torch.as_tensor(score).detach().float().cpu().flatten()
            else:
                result['pred_label'] = _label(sample_field(sample, 'pred_label', i, 'Accuracy'), 'pred_label', i)
            self.results.append(result)

    @staticmethod
    def calculate(pred: torch.Tensor, target: torch.Tensor, topk: Sequence[int] = (1, ),
                  thrs: Sequence[Optional[float]] = (0.0, )) -> Union[torch.Tensor, List[List[torch.Tensor]]]:
        """mmpretrain's ``Accuracy.calculate``: percent of correct samples.

        Args:
            pred (Tensor): (N, C) scores, or (N, ) integer labels.
            target (Tensor): (N, ) integer labels.
            topk (Sequence[int]): The k's (scores only). Defaults to ``(1, )``.
            thrs (Sequence[float | None]): Score thresholds (scores only). Defaults to ``(0.0, )``.

        Returns:
            Tensor | list[list[Tensor]]: For labels, a one-element tensor (top-1); for scores, ``[k][thr]``
            one-element tensors.

        Raises:
            ValueError: A k above the number of classes, or ``pred`` / ``target`` of different lengths.
        """
        if pred.size(0) != target.size(0):
            raise ValueError(f'Accuracy: {pred.size(0)} predictions for {target.size(0)} labels')
        num = pred.size(0)
        if pred.dim() == 1:
            return (pred.long() == target.long()).float().sum(0, keepdim=True) * 100.0 / num
        maxk = max(topk)
        if maxk > pred.size(1):
            raise ValueError(f'Accuracy: top-{maxk} accuracy is unavailable with {pred.size(1)} classes')
        scores, labels = pred.topk(maxk, dim=1)
        scores, labels = scores.t(), labels.t()
        correct = labels.eq(target.view(1, -1).expand_as(labels))
        results = []
        for k in topk:
            row = []
            for thr in thrs:
                hit = correct if thr is None else correct & (scores > thr)
                row.append(hit[:k].reshape(-1).float().sum(0, keepdim=True) * 100.0 / num)
            results.append(row)
        return results

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``top{k}`` for each k (and threshold) in percent; only ``top1`` from labels.

        Args:
            results (list[dict]): The processed samples.

        Returns:
            dict[str, float]: The accuracies (mmengine adds the ``accuracy/`` prefix).

        Raises:
            ValueError: No samples; scores of different lengths; as :meth:`calculate`.
        """
        if not results:
            raise ValueError('Accuracy: no data samples were processed')
        target = torch.tensor([r['gt_label'] for r in results], dtype=torch.long)
        if all('pred_score' in r for r in results):
            lengths = {r['pred_score'].numel() for r in results}
            if len(lengths) > 1:
                raise ValueError(f'Accuracy: pred_score of different lengths {sorted(lengths)}')
            pred = torch.stack([r['pred_score'] for r in results])
            res = self.calculate(pred, target, self.topk, self.thrs)
            metrics = {}
            for k, row in zip(self.topk, res):
                for thr, acc in zip(self.thrs, row):
                    name = f'top{k}'
                    if len(self.thrs) > 1:
                        name += '_no-thr' if thr is None else f'_thr-{thr:.2f}'
                    metrics[name] = acc.item()
            return metrics
        pred = torch.tensor([r['pred_label'] if 'pred_label' in r else int(r['pred_score'].argmax())
                             for r in results], dtype=torch.long)
        return dict(top1=self.calculate(pred, target).item())
