"""KL divergence between the intensity histograms of two images (e.g. pseudo-MR vs real MR), in nats.

The KL itself is :func:`visiondiv.divergences.categorical.categorical_kl` (the one KL of
categorical distributions in visiondiv); this module turns images into the histograms it compares.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from visiondiv.utils.validation import check_finite, check_non_negative, check_window
from visiondiv.divergences.categorical import categorical_kl

ArrayLike = Union[np.ndarray, torch.Tensor]


def _to_numpy(x: ArrayLike, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f'{name} must be a numpy array or a torch tensor, got {type(x).__name__}')


def check_histogram_args(bins: int, value_range: Optional[Sequence[float]], eps: float
                         ) -> Optional[Tuple[float, float]]:
    """Validate the histogram arguments; ``value_range`` returned as ``(lo, hi)`` floats (or None).

    Errors name the argument: ``bins`` an integer >= 1, ``value_range`` two finite numbers lo < hi,
    ``eps`` a finite number >= 0.

    Args:
        bins (int): Number of histogram bins; an integer >= 1 (bool refused).
        value_range (Sequence[float], optional): ``(lo, hi)``, two finite numbers with lo < hi, or None.
        eps (float): Smoothing mass added to every bin; a finite number >= 0 (bool refused).

    Returns:
        tuple[float, float] | None: ``value_range`` as ``(lo, hi)`` floats, or None when it is None.

    Raises:
        ValueError: naming the argument that breaks the rules above.
    """
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f'bins must be an integer >= 1, got {bins!r}')
    check_non_negative(eps, 'eps', 'intensity_kl')
    return None if value_range is None else check_window(value_range, 'value_range')


def select_values(x: ArrayLike, mask: Optional[ArrayLike] = None, name: str = 'x', mask_name: str = 'mask'
                  ) -> np.ndarray:
    """The values of ``x`` where ``mask`` is True (all of them without a mask), flat, in float64.

    Refuses a non-boolean mask, a mask whose shape differs from ``x`` and NaN / inf among the selected
    values; errors name ``name`` / ``mask_name``.

    Args:
        x (np.ndarray | Tensor): Values of any shape.
        mask (np.ndarray | Tensor, optional): Boolean, the shape of ``x``; True selects a value.
            Defaults to None (every value).
        name (str): Name of ``x`` in error messages. Defaults to ``'x'``.
        mask_name (str): Name of ``mask`` in error messages. Defaults to ``'mask'``.

    Returns:
        np.ndarray: The selected values, 1-D, float64 (possibly empty).

    Raises:
        TypeError: ``x`` or ``mask`` is neither a numpy array nor a torch tensor.
        ValueError: a non-boolean mask, a mask of another shape, NaN / inf among the selected values.
    """
    x = _to_numpy(x, name)
    if mask is not None:
        mask = _to_numpy(mask, mask_name)
        if mask.dtype != np.bool_:
            raise ValueError(f'{mask_name} must be boolean, got dtype {mask.dtype}')
        if mask.shape != x.shape:
            raise ValueError(f'{mask_name} has shape {tuple(mask.shape)}, but {name} has shape {tuple(x.shape)}')
        x = x[mask]
    return check_finite(np.asarray(x, np.float64).ravel(), name, what='selected values')


def union_range(*values: np.ndarray) -> Tuple[float, float]:
    """``(min, max)`` over all ``values`` (each non-empty).

    A zero-width range ``v`` becomes ``(v - 0.5, v + 0.5)``, numpy's convention for ``np.histogram`` of
    constant data.

    Args:
        *values (np.ndarray): Non-empty arrays of values.

    Returns:
        tuple[float, float]: ``(lo, hi)`` with lo < hi.
    """
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def histogram_counts(values: np.ndarray, bins: int, value_range: Tuple[float, float]) -> np.ndarray:
    """Counts of ``values`` in ``bins`` equal-width bins over ``value_range``.

    As ``np.histogram``: values outside are dropped, the right edge belongs to the last bin.

    Args:
        values (np.ndarray): Values of any shape (flattened by ``np.histogram``).
        bins (int): Number of equal-width bins, >= 1.
        value_range (tuple[float, float]): ``(lo, hi)`` of the bins.

    Returns:
        np.ndarray: Integer counts, (bins,).
    """
    return np.histogram(values, bins=bins, range=value_range)[0]


def kl_from_histograms(counts_a: ArrayLike, counts_b: ArrayLike, eps: float = 1e-10) -> float:
    """KL(P_a || P_b) = sum_i p_i log(p_i / q_i) in nats between two histograms over the same bins.

    Each histogram is normalised to sum 1, ``eps`` is added to every bin and it is normalised again,
    so with ``eps > 0`` every bin has mass and the KL is finite. With ``eps = 0`` the KL is ``inf``
    when some bin has mass in ``a`` and none in ``b`` (0 log 0 = 0 otherwise).

    Args:
        counts_a (np.ndarray | Tensor): Counts of the first histogram (P_a), 1-D, finite, >= 0, not all 0.
        counts_b (np.ndarray | Tensor): Counts of the second histogram (P_b), the length of ``counts_a``.
        eps (float): Smoothing mass added to every bin after normalising, a finite number >= 0.
            Defaults to 1e-10.

    Returns:
        float: KL(P_a || P_b) in nats; ``inf`` only when ``eps`` is 0 (some bin empty in b only).

    Raises:
        TypeError: counts that are neither a numpy array nor a torch tensor.
        ValueError: ``eps`` < 0 or not finite; naming ``counts_a`` / ``counts_b``: not 1-D, different
            lengths, negative or non-finite counts, or a total of 0.
    """
    check_histogram_args(1, None, eps)
    hists = []
    for name, counts in (('counts_a', counts_a), ('counts_b', counts_b)):
        c = np.asarray(_to_numpy(counts, name), np.float64)
        if c.ndim != 1:
            raise ValueError(f'{name} must be 1-D, got shape {c.shape}')
        if not np.all(np.isfinite(c)) or (c < 0).any():
            raise ValueError(f'{name} must hold finite counts >= 0')
        if c.sum() <= 0:
            raise ValueError(f'{name} is empty (its counts sum to 0)')
        p = c / c.sum() + eps
        hists.append(p / p.sum())
    p, q = hists
    if p.shape != q.shape:
        raise ValueError(f'counts_a has {p.size} bins, counts_b {q.size}')
    if ((p > 0) & (q == 0)).any():
        return float('inf')
    # q > 0 wherever p > 0 here; the clamp only has to keep log(q) finite in bins where p = 0
    return float(categorical_kl(torch.from_numpy(p), torch.from_numpy(q), eps=np.finfo(np.float64).tiny))


def intensity_kl(a: ArrayLike, b: ArrayLike, bins: int = 256, value_range: Optional[Sequence[float]] = None,
                 mask_a: Optional[ArrayLike] = None, mask_b: Optional[ArrayLike] = None, eps: float = 1e-10) -> float:
    """KL divergence KL(P_a || P_b) in nats between the intensity histograms of ``a`` and ``b``.

    P_a, P_b are ``bins`` equal-width histograms (float64, ``np.histogram``) of the values of ``a`` where
    ``mask_a`` is True and of ``b`` where ``mask_b`` is True, over ``value_range``; the KL is
    :func:`kl_from_histograms` of their counts (normalise, add ``eps`` to every bin, renormalise).

    Args:
        a (np.ndarray | Tensor): First image (P_a), any shape (``a`` and ``b`` may differ).
        b (np.ndarray | Tensor): Second image (P_b), any shape.
        bins (int): Number of bins, >= 1. Defaults to 256.
        value_range (Sequence[float], optional): ``(lo, hi)``; values outside are ignored, ``hi`` belongs
            to the last bin. None: the union of the ranges of both selections; when it has zero width
            (``a`` and ``b`` the same constant ``v``) it is ``(v - 0.5, v + 0.5)``, as numpy does for
            constant data. Defaults to None.
        mask_a (np.ndarray | Tensor, optional): Boolean, the shape of ``a``; None selects every value.
            Defaults to None.
        mask_b (np.ndarray | Tensor, optional): Boolean, the shape of ``b``; None selects every value.
            Defaults to None.
        eps (float): Smoothing mass added to every bin, >= 0. Defaults to 1e-10.

    Returns:
        float: KL(P_a || P_b) in nats; ``inf`` only when ``eps`` is 0 (some bin empty in b only).

    Raises:
        TypeError: ``a``, ``b`` or a mask that is neither a numpy array nor a torch tensor.
        ValueError: naming the argument: NaN / inf among the selected values, a mask of another shape or
            dtype, no value selected (after masking and ``value_range``), ``bins`` < 1, ``value_range``
            with lo >= hi or a non-finite end, ``eps`` < 0.
    """
    value_range = check_histogram_args(bins, value_range, eps)
    va = select_values(a, mask_a, 'a', 'mask_a')
    vb = select_values(b, mask_b, 'b', 'mask_b')
    for name, v in (('a', va), ('b', vb)):
        if v.size == 0:
            raise ValueError(f'{name}: no values selected (empty array or mask)')
    if value_range is None:
        value_range = union_range(va, vb)
    ca, cb = histogram_counts(va, bins, value_range), histogram_counts(vb, bins, value_range)
    for name, c in (('a', ca), ('b', cb)):
        if c.sum() == 0:
            raise ValueError(f'{name}: no selected value lies in value_range {value_range}')
    return kl_from_histograms(ca, cb, eps)
