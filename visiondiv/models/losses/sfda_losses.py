"""Label-free losses of source-free domain adaptation (Bateson et al., MICCAI 2020 / MedIA 2022).

The adaptation objective is entropy(predictions) + lambda * KL between a
class-ratio prior and the predicted class ratios of an image. Both follow
mmseg's loss interface (``cls_score`` logits (N, C, H, W); the label is not used).
"""
import warnings
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.divergences.categorical import categorical_kl, entropy
from .utils import compute_dtype


def validate_prior(prior: Sequence[float], num_classes: int, name: str = 'prior', atol: float = 1e-4) -> Tensor:
    """A class-ratio prior as a tensor, refusing a wrong length, non-finite or negative entries or a sum other than 1.

    The one check of a prior: ``ClassRatioKLLoss`` and ``tools/sfda/estimate_prior.py`` use it.

    Args:
        prior (Sequence[float]): the class ratios, one per class (flattened).
        num_classes (int): the number of entries required.
        name (str): what the error messages call the prior. Defaults to ``'prior'``.
        atol (float): tolerance of the sum: abs(sum - 1) <= atol. Defaults to 1e-4.

    Returns:
        Tensor: the prior, (num_classes,) float32, as given (not renormalised).

    Raises:
        ValueError: for a wrong length, a NaN/inf or negative entry, or a sum farther than ``atol`` from 1.
    """
    t = torch.as_tensor(prior, dtype=torch.float32).flatten()
    if t.numel() != num_classes:
        raise ValueError(f'{name} has {t.numel()} entries but there are {num_classes} classes: {list(prior)}')
    # before the comparisons below, which NaN passes
    if not torch.isfinite(t).all():
        raise ValueError(f'{name} has non-finite entries (NaN or inf): {t.tolist()}')
    if (t < 0).any():
        raise ValueError(f'{name} has negative entries: {list(prior)}')
    if abs(float(t.sum()) - 1.0) > atol:
        raise ValueError(f'{name} must sum to 1, sums to {float(t.sum()):.6f}: {list(prior)}')
    return t


#: ways of turning softmax maps into class ratios (see :func:`predicted_class_ratio`)
RATIO_METHODS = ('mean', 'max_normalized')


def check_ratio_method(method: str) -> str:
    """``method`` if it is one of :data:`RATIO_METHODS`.

    Args:
        method (str): ``'mean'`` or ``'max_normalized'``.

    Returns:
        str: ``method`` unchanged.

    Raises:
        ValueError: for any other value.
    """
    if method not in RATIO_METHODS:
        raise ValueError(f"method must be 'mean' or 'max_normalized', got {method!r}")
    return method


def predicted_class_ratio(probs: Tensor, method: str = 'mean') -> Tensor:
    """Class ratios (N, C) of softmax maps (N, C, ...).

    - ``mean``: the mean softmax over pixels (the papers' definition);
    - ``max_normalized``: probabilities divided by their per-pixel maximum,
      summed over pixels, renormalised over classes (mathilde-b/SFDA's code).

    Args:
        probs (Tensor): softmax maps (N, C, ...), probabilities along dim 1.
        method (str): ``'mean'`` or ``'max_normalized'``. Defaults to ``'mean'``.

    Returns:
        Tensor: (N, C) class ratios; each row sums to 1 (for ``'mean'``, when ``probs`` sums to 1 over C).

    Raises:
        ValueError: for an unknown ``method``.
    """
    flat = probs.flatten(2)
    if check_ratio_method(method) == 'mean':
        return flat.mean(-1)
    scaled = (flat / flat.max(dim=1, keepdim=True).values.clamp_min(1e-12)).sum(-1)
    return scaled / scaled.sum(-1, keepdim=True)


def logits_class_ratio(cls_score: Tensor, num_classes: int, method: str, owner: str) -> Tensor:
    """Class ratios (N, C) of logits (N, C, ...), computed in fp32 for half input.

    ``owner`` starts the error when the network's class count differs from ``num_classes``
    (e.g. ``'prior has'``).

    Args:
        cls_score (Tensor): logits (N, C, ...); the softmax is over dim 1.
        num_classes (int): the class count expected (the prior's or the bounds' length).
        method (str): ``'mean'`` or ``'max_normalized'`` (:func:`predicted_class_ratio`).
        owner (str): the start of the error message.

    Returns:
        Tensor: (N, C) class ratios, in fp32 for half-precision input, else in ``cls_score``'s dtype.

    Raises:
        ValueError: if ``cls_score.size(1) != num_classes`` or ``method`` is unknown.
    """
    if cls_score.size(1) != num_classes:
        raise ValueError(f'{owner} {num_classes} classes but the network predicts {cls_score.size(1)}')
    return predicted_class_ratio(cls_score.to(compute_dtype(cls_score.dtype)).softmax(1), method)


def resolve_loss_weight(loss_weight: float, weight: Optional[float], owner: str) -> float:
    """``loss_weight``, or the deprecated ``weight`` (with a warning) when only that one is given.

    ``loss_weight`` counts as given when it is not 1.0 (its default); ``weight`` is returned whenever it is
    not None, with a ``DeprecationWarning``.

    Args:
        loss_weight (float): the loss's ``loss_weight``.
        weight (float, optional): the deprecated ``weight``, None when not given.
        owner (str): the class name used in the warning and the error.

    Returns:
        float: the multiplier to use.

    Raises:
        ValueError: if both are given (``loss_weight`` != 1.0) and differ.
    """
    if weight is None:
        return loss_weight
    warnings.warn(f'{owner}(weight=...) is deprecated; use loss_weight=', DeprecationWarning, stacklevel=3)
    if loss_weight != 1.0 and loss_weight != weight:
        raise ValueError(f'{owner}: weight={weight} (deprecated) contradicts loss_weight={loss_weight}')
    return weight


@MODELS.register_module()
class EntropyLoss(nn.Module):
    """Mean over pixels of the (class-weighted) prediction entropy -sum_c w_c p_c log p_c.

    p is the softmax of ``cls_score`` (N, C, H, W) over dim 1 (in fp32 for half-precision input), the
    logarithm natural; the mean runs over images and pixels. The label is not used.

    Args:
        class_weight (Sequence[float], optional): per-class weights, e.g. [0.1, 0.9] (SFDA's prostate/spine),
            C entries (checked in ``forward``). Defaults to None (every class weighs 1).
        loss_weight (float): multiplier. Defaults to 1.0.
        loss_name (str): key in the loss dict (must start with ``loss_`` to be back-propagated).
            Defaults to ``'loss_ent'``.
    """

    def __init__(self, class_weight: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 loss_name: str = 'loss_ent') -> None:
        super().__init__()
        self.register_buffer('class_weight', torch.as_tensor(class_weight, dtype=torch.float64)
                             if class_weight is not None else None, persistent=False)
        self.loss_weight, self._loss_name = loss_weight, loss_name

    def forward(self, cls_score: Tensor, label: Optional[Tensor] = None, **kwargs) -> Tensor:
        probs = cls_score.to(compute_dtype(cls_score.dtype)).softmax(1)
        if self.class_weight is not None and self.class_weight.numel() != probs.size(1):
            raise ValueError(f'class_weight has {self.class_weight.numel()} entries for {probs.size(1)} classes')
        weight = self.class_weight.to(probs.dtype) if self.class_weight is not None else None
        return self.loss_weight * entropy(probs, dim=1, weight=weight).mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name


@MODELS.register_module()
class ClassRatioKLLoss(nn.Module):
    """KL divergence between a class-ratio prior and the predicted class ratios.

    The predicted ratios come from the softmax of ``cls_score`` (N, C, H, W) (:func:`predicted_class_ratio`);
    the second argument of the KL is clamped at 1e-8 (:func:`~visiondiv.divergences.categorical_kl`).

    Args:
        prior (Sequence[float]): class-ratio prior tau_prior (length C, sums to 1; checked by
            :func:`validate_prior`).
        mode (str): ``image``: one KL per image, averaged; ``batch``: one KL of the batch's mean ratio.
            Defaults to ``'image'``.
        direction (str): ``pred_prior`` = KL(tau_pred || tau_prior), the reference code's (default);
            ``prior_pred`` = KL(tau_prior || tau_pred), as the issue/paper text writes it.
            Defaults to ``'pred_prior'``.
        ratio (str): ``mean`` or ``max_normalized`` (see :func:`predicted_class_ratio`). Defaults to ``'mean'``.
        loss_weight (float): lambda (SFDA uses 1). Defaults to 1.0.
        loss_name (str): key in the loss dict. Defaults to ``'loss_ratio_kl'``.
        weight (float, optional): deprecated name of ``loss_weight`` (see :func:`resolve_loss_weight`).
            Defaults to None.

    Raises:
        ValueError: for an unknown ``mode``, ``direction`` or ``ratio``, an invalid prior, or a ``weight``
            that contradicts ``loss_weight``.
    """

    def __init__(self, prior: Sequence[float], mode: str = 'image', direction: str = 'pred_prior',
                 ratio: str = 'mean', loss_weight: float = 1.0, loss_name: str = 'loss_ratio_kl',
                 weight: Optional[float] = None) -> None:
        super().__init__()
        if mode not in ('image', 'batch'):
            raise ValueError(f"mode must be 'image' or 'batch', got {mode!r}")
        if direction not in ('pred_prior', 'prior_pred'):
            raise ValueError(f"direction must be 'pred_prior' or 'prior_pred', got {direction!r}")
        check_ratio_method(ratio)
        prior_t = torch.as_tensor(prior, dtype=torch.float32).flatten()
        validate_prior(prior_t.tolist(), prior_t.numel(), name='ClassRatioKLLoss prior')
        self.register_buffer('prior', prior_t.double(), persistent=False)
        self.mode, self.direction, self.ratio = mode, direction, ratio
        self.loss_weight = resolve_loss_weight(loss_weight, weight, 'ClassRatioKLLoss')
        self._loss_name = loss_name

    def forward(self, cls_score: Tensor, label: Optional[Tensor] = None, **kwargs) -> Tensor:
        tau = logits_class_ratio(cls_score, self.prior.numel(), self.ratio, 'prior has')
        if self.mode == 'batch':
            tau = tau.mean(0, keepdim=True)
        prior = self.prior.to(tau.dtype).expand_as(tau)
        kl = categorical_kl(tau, prior) if self.direction == 'pred_prior' else categorical_kl(prior, tau)
        return self.loss_weight * kl.mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name


def validate_bounds(bounds: Sequence[Sequence[float]], name: str = 'bounds') -> Tensor:
    """Per-class ``[low, high]`` class-ratio bounds as a (C, 2) tensor, refusing bad ones.

    Args:
        bounds (Sequence[Sequence[float]]): one ``[low, high]`` pair per class.
        name (str): what the error messages call the bounds. Defaults to ``'bounds'``.

    Returns:
        Tensor: (C, 2) float64, column 0 the lows, column 1 the highs.

    Raises:
        ValueError: if the bounds are not C pairs, have a NaN/inf entry, break 0 <= low <= high <= 1, or admit
            no ratio vector summing to 1 (sum of lows > 1 or sum of highs < 1).
    """
    t = torch.as_tensor(bounds, dtype=torch.float64)
    if t.dim() != 2 or t.size(1) != 2:
        raise ValueError(f'{name} must be a list of [low, high] pairs, one per class: {bounds}')
    if not torch.isfinite(t).all():
        raise ValueError(f'{name} have non-finite entries (NaN or inf): {t.tolist()}')
    if (t < 0).any() or (t > 1).any() or (t[:, 0] > t[:, 1]).any():
        raise ValueError(f'{name} need 0 <= low <= high <= 1 for every class: {bounds}')
    if t[:, 0].sum() > 1 or t[:, 1].sum() < 1:
        raise ValueError(f'{name} admit no ratio vector summing to 1 (sum of lows {float(t[:, 0].sum()):.4f}, '
                         f'sum of highs {float(t[:, 1].sum()):.4f}): {bounds}')
    return t


@MODELS.register_module()
class ClassRatioBoundLoss(nn.Module):
    """Quadratic penalty on predicted class ratios outside per-class ``[low, high]`` bounds.

    The third prior of the issue (bounds instead of one vector), in the form of Kervadec et
    al.'s size constraint: per image and class, ``relu(low - tau)^2 + relu(tau - high)^2``,
    summed over classes and averaged over images. Zero inside the bounds.

    Args:
        bounds (Sequence[Sequence[float]]): ``[low, high]`` per class (C pairs; checked by
            :func:`validate_bounds`).
        ratio (str): ``mean`` or ``max_normalized`` (see :func:`predicted_class_ratio`). Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.
        loss_name (str): key in the loss dict. Defaults to ``'loss_ratio_bound'``.
        weight (float, optional): deprecated name of ``loss_weight`` (see :func:`resolve_loss_weight`).
            Defaults to None.

    Raises:
        ValueError: for an unknown ``ratio``, invalid bounds, or a ``weight`` that contradicts ``loss_weight``.
    """

    def __init__(self, bounds: Sequence[Sequence[float]], ratio: str = 'mean', loss_weight: float = 1.0,
                 loss_name: str = 'loss_ratio_bound', weight: Optional[float] = None) -> None:
        super().__init__()
        check_ratio_method(ratio)
        self.register_buffer('bounds', validate_bounds(bounds, 'ClassRatioBoundLoss bounds'), persistent=False)
        self.ratio, self._loss_name = ratio, loss_name
        self.loss_weight = resolve_loss_weight(loss_weight, weight, 'ClassRatioBoundLoss')

    def forward(self, cls_score: Tensor, label: Optional[Tensor] = None, **kwargs) -> Tensor:
        tau = logits_class_ratio(cls_score, self.bounds.size(0), self.ratio, 'bounds have')
        low, high = self.bounds[:, 0].to(tau.dtype), self.bounds[:, 1].to(tau.dtype)
        penalty = (low - tau).clamp_min(0) ** 2 + (tau - high).clamp_min(0) ** 2
        return self.loss_weight * penalty.sum(1).mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
