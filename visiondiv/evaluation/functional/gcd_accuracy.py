"""Clustering accuracy of Generalized Category Discovery (GCD): All / Old / New.

Predictions are cluster ids; a Hungarian assignment (``scipy.optimize.linear_sum_assignment``) maps
them to ground-truth classes. The three split variants follow the official code: ``v2`` and ``v2b``
as SimGCD's ``util/cluster_and_log_utils.py`` (``split_cluster_acc_v2``, ``split_cluster_acc_v2_balanced``),
``v1`` and :func:`cluster_acc` as GCD's (Vaze et al., sgvaze/generalized-category-discovery)
``project_utils/cluster_and_log_utils.py`` and ``cluster_utils.py``. ``v2`` is the number SimGCD and
LegoGCD report.

All functions return fractions in [0, 1], as the official code does. ``mask`` marks samples of old
(known) classes; it must be constant within each ground-truth class (GCD masks by class).

Where the official code crashes on an empty Old or New subset (``v2``, ``v1``: division by zero /
``max`` of an empty array) or averages an empty array (``v2b``: numpy's NaN with a warning), these
functions return ``float('nan')`` for that subset's accuracy on purpose and compute All over the
samples present; callers must treat NaN as "no samples of this kind", not as an accuracy.
"""
from typing import Callable, Dict, Sequence, Tuple, Union

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from visiondiv.utils.validation import check_finite, check_labels

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]
SplitAcc = Tuple[float, float, float]


def _as_array(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` (list, numpy array or tensor) as a 1-D numpy array; the error names ``name``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:      # ragged lists
        raise ValueError(f'{name} must be a 1-D array of labels: {err}') from None
    if arr.ndim != 1:
        raise ValueError(f'{name} must be 1-D, got shape {tuple(arr.shape)}')
    return arr


def _as_labels(x: ArrayLike, name: str) -> np.ndarray:
    """Non-negative integer labels as int64; refuses NaN / inf, fractions and negatives, naming ``name``."""
    arr = _as_array(x, name)
    if arr.size == 0:
        raise ValueError(f'{name} is empty')
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f'{name} must hold integer labels, got dtype {arr.dtype}')
    if not np.issubdtype(arr.dtype, np.integer):
        check_labels(check_finite(arr, name, what='labels'), name)
    if arr.min() < 0:
        raise ValueError(f'{name} must hold non-negative labels, found {arr.min()}')
    return arr.astype(np.int64)


def _as_mask(mask: ArrayLike, y_true: np.ndarray, name: str = 'mask') -> np.ndarray:
    """``mask`` as bool (bool or 0/1 values), as long as ``y_true`` and constant within each class."""
    arr = _as_array(mask, name)
    if arr.dtype != np.bool_:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError(f'{name} must be boolean (or 0/1), got dtype {arr.dtype}')
        arr = arr.astype(bool)
    if arr.size != y_true.size:
        raise ValueError(f'{name} has {arr.size} values, but y_true has {y_true.size}')
    both = np.intersect1d(y_true[arr], y_true[~arr])
    if both.size:
        # SimGCD's Old/New count a class by all its samples: a class on both sides would be counted twice
        raise ValueError(f'{name} must mark whole classes as old or new; classes {both[:10].tolist()} '
                         'have samples on both sides')
    return arr


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = _as_labels(y_true, 'y_true'), _as_labels(y_pred, 'y_pred')
    if y_true.size != y_pred.size:
        raise ValueError(f'y_pred has {y_pred.size} values, but y_true has {y_true.size}')
    return y_true, y_pred


def _confusion_and_match(y_true: np.ndarray, y_pred: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``w[pred, true]`` counts (D x D, D = 1 + the largest id of either) and ``match[true] = pred``.

    The cost ``w.max() - w`` is the official code's: with ties, scipy then picks the same assignment,
    and the Old / New split of equally good assignments can differ.
    """
    d = int(max(y_true.max(), y_pred.max())) + 1
    w = np.bincount(y_pred * d + y_true, minlength=d * d).reshape(d, d)
    rows, cols = linear_sum_assignment(w.max() - w)
    match = np.empty(d, dtype=np.int64)
    match[cols] = rows
    return w, match


def cluster_acc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Accuracy of ``y_pred`` under the best one-to-one map of cluster ids to classes (Hungarian).

    Args:
        y_true (np.ndarray | Tensor | Sequence): Ground-truth class indices, (N,), non-negative integers.
        y_pred (np.ndarray | Tensor | Sequence): Predicted cluster ids, (N,), non-negative integers.

    Returns:
        float: the fraction of samples whose mapped cluster is their class, in [0, 1].

    Raises:
        ValueError: empty input, lengths that differ, non-integer / negative / NaN labels; the message
            names the argument.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    w, match = _confusion_and_match(y_true, y_pred)
    return float(w[match, np.arange(w.shape[1])].sum() / y_true.size)


def _check_split(y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, y_pred = _check_pair(y_true, y_pred)
    return y_true, y_pred, _as_mask(mask, y_true)


def split_cluster_acc_v2(y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike) -> SplitAcc:
    """SimGCD's reported GCD accuracy: ONE Hungarian assignment over all classes, then All / Old / New.

    Old (New) is the fraction of old-class (new-class) samples whose cluster the global assignment maps
    to their class.

    Args:
        y_true (np.ndarray | Tensor | Sequence): Ground-truth class indices, (N,), non-negative integers.
        y_pred (np.ndarray | Tensor | Sequence): Predicted cluster ids, (N,), non-negative integers.
        mask (np.ndarray | Tensor | Sequence): (N,) bool (or 0/1), True for samples of old (known)
            classes; constant within a class.

    Returns:
        tuple[float, float, float]: (all, old, new) fractions; old / new is NaN when no sample of that
        kind is present (the official code divides by zero there).

    Raises:
        ValueError: bad input (see :func:`cluster_acc`), a mask of another length, non-boolean, or
            splitting a class; the message names the argument.
    """
    y_true, y_pred, mask = _check_split(y_true, y_pred, mask)
    _, match = _confusion_and_match(y_true, y_pred)
    hit = match[y_true] == y_pred      # each sample: is its cluster the one mapped to its class
    return float(hit.mean()), _mean_or_nan(hit[mask]), _mean_or_nan(hit[~mask])


def split_cluster_acc_v2_balanced(y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike) -> SplitAcc:
    """SimGCD's balanced variant (``split_cluster_acc_v2_balanced``): per-class accuracies, averaged.

    The same single Hungarian assignment as :func:`split_cluster_acc_v2`; each class present in
    ``y_true`` gets its recall under it; All / Old / New are the unweighted means of the recalls of
    all / old / new classes (SimGCD logs it for the long-tailed Herbarium 19).

    Args:
        y_true (np.ndarray | Tensor | Sequence): Ground-truth class indices, (N,), non-negative integers.
        y_pred (np.ndarray | Tensor | Sequence): Predicted cluster ids, (N,), non-negative integers.
        mask (np.ndarray | Tensor | Sequence): (N,) bool (or 0/1), True for samples of old (known)
            classes; constant within a class.

    Returns:
        tuple[float, float, float]: (all, old, new) class-averaged fractions; old / new is NaN when no
        class of that kind is present.

    Raises:
        ValueError: as :func:`split_cluster_acc_v2`.
    """
    y_true, y_pred, mask = _check_split(y_true, y_pred, mask)
    w, match = _confusion_and_match(y_true, y_pred)
    classes = np.unique(y_true)
    recall = w[match[classes], classes] / w[:, classes].sum(axis=0)
    old = np.isin(classes, y_true[mask])
    return float(recall.mean()), _mean_or_nan(recall[old]), _mean_or_nan(recall[~old])


def split_cluster_acc_v1(y_true: ArrayLike, y_pred: ArrayLike, mask: ArrayLike) -> SplitAcc:
    """GCD's first protocol: separate Hungarian assignments for the old and the new samples.

    Old = :func:`cluster_acc` on the old samples, New = :func:`cluster_acc` on the new ones (each with
    its own assignment, so a cluster may serve an old and a new class), All = their average weighted
    by the number of samples.

    Args:
        y_true (np.ndarray | Tensor | Sequence): Ground-truth class indices, (N,), non-negative integers.
        y_pred (np.ndarray | Tensor | Sequence): Predicted cluster ids, (N,), non-negative integers.
        mask (np.ndarray | Tensor | Sequence): (N,) bool (or 0/1), True for samples of old (known)
            classes; constant within a class.

    Returns:
        tuple[float, float, float]: (all, old, new) fractions; old / new is NaN when no sample of that
        kind is present (the official code raises there) and All is then the other subset's accuracy.

    Raises:
        ValueError: as :func:`split_cluster_acc_v2`.
    """
    y_true, y_pred, mask = _check_split(y_true, y_pred, mask)
    accs = [cluster_acc(y_true[m], y_pred[m]) if m.any() else float('nan') for m in (mask, ~mask)]
    counts = [int(mask.sum()), int((~mask).sum())]
    total = sum(n * a for n, a in zip(counts, accs) if n) / y_true.size
    return float(total), accs[0], accs[1]


def _mean_or_nan(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float('nan')


#: the split accuracies by the names SimGCD's ``--eval_funcs`` uses (``v1`` from GCD)
EVAL_FUNCS: Dict[str, Callable[[ArrayLike, ArrayLike, ArrayLike], SplitAcc]] = {
    'v2': split_cluster_acc_v2,
    'v2b': split_cluster_acc_v2_balanced,
    'v1': split_cluster_acc_v1,
}
