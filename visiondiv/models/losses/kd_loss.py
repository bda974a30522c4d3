"""Hinton knowledge distillation on logits, and the input checks every logit-distillation loss shares.

The KD losses (``KDLoss``, ``DKDLoss``, ``DecoupledKLLoss``, ``WassersteinKDLoss``, ``BalancedKDLoss``) take
mmrazor's arguments: ``preds_S`` the student's logits (N, C), ``preds_T`` the teacher's (N, C), and, where the
loss needs it, ``gt_labels`` (N,). Half-precision logits are computed in fp32 (:func:`compute_dtype`).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

from visiondiv.divergences.categorical import categorical_kl
from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_finite, check_positive
from .utils import compute_dtype

#: reductions over the batch of the KD losses: ``mean`` is the batch mean of the per-sample losses
KD_REDUCTIONS = ('none', 'mean', 'sum')


def check_class_matrix(m: Tensor, name: str, owner: str, num_classes: Optional[int] = None) -> Tensor:
    """``m`` if it is a finite, non-negative (C, C) class-by-class matrix (a class prior, a transport cost).

    Args:
        m (Tensor): the matrix.
        name (str): the argument's name, for the messages.
        owner (str): the class that takes it, for the messages.
        num_classes (int, optional): the logits' class count C, checked when given. Defaults to None.

    Returns:
        Tensor: ``m``, unchanged.

    Raises:
        ValueError: naming ``name``, for another shape or class count, NaN/inf or negative entries.
    """
    if m.dim() != 2 or m.size(0) != m.size(1):
        raise ValueError(f'{owner}: {name} must be (C, C), got shape {tuple(m.shape)}')
    if num_classes is not None and m.size(0) != num_classes:
        raise ValueError(f'{owner}: {name} has {m.size(0)} classes but the logits have {num_classes}')
    check_finite(m, owner, f'values of {name}')
    if (m < 0).any():
        raise ValueError(f'{owner}: {name} has negative entries')
    return m


def check_kd_logits(preds_S: Tensor, preds_T: Tensor, owner: str) -> Tuple[Tensor, Tensor]:
    """Student and teacher logits (N, C) checked and cast to one compute dtype.

    Args:
        preds_S (Tensor): the student's logits (N, C).
        preds_T (Tensor): the teacher's logits (N, C).
        owner (str): the loss, for the messages.

    Returns:
        tuple[Tensor, Tensor]: both logits in fp32 when either is half precision (fp16/bf16), else in their
        promoted dtype (fp64 when either is fp64); the autograd graph is kept.

    Raises:
        ValueError: naming the argument, when a logit tensor is not 2-D, the batch sizes or the class counts
            differ, or a logit is NaN or inf.
    """
    for name, t in (('preds_S', preds_S), ('preds_T', preds_T)):
        if t.dim() != 2:
            raise ValueError(f'{owner}: {name} must be logits (N, C), got shape {tuple(t.shape)}')
    if preds_S.size(1) != preds_T.size(1):
        raise ValueError(f'{owner}: preds_S has {preds_S.size(1)} classes but preds_T has {preds_T.size(1)}; '
                         'student and teacher must predict the same classes')
    if preds_S.size(0) != preds_T.size(0):
        raise ValueError(f'{owner}: preds_S has {preds_S.size(0)} samples but preds_T has {preds_T.size(0)}')
    check_finite(preds_S, owner, 'values of preds_S')
    check_finite(preds_T, owner, 'values of preds_T')
    dtype = compute_dtype(torch.promote_types(preds_S.dtype, preds_T.dtype))
    return preds_S.to(dtype), preds_T.to(dtype)


def check_gt_labels(gt_labels: Tensor, num_samples: int, num_classes: int, owner: str) -> Tensor:
    """Integer class labels (N,) in ``[0, num_classes)``.

    Args:
        gt_labels (Tensor): the labels, one per sample.
        num_samples (int): N, the batch size of the logits.
        num_classes (int): C.
        owner (str): the loss, for the messages.

    Returns:
        Tensor: the labels as int64 (N,).

    Raises:
        ValueError: naming ``gt_labels``, when there is not one integer label per sample or one is out of range.
    """
    if gt_labels is None:
        raise ValueError(f'{owner}: gt_labels is required')
    if gt_labels.is_floating_point() or gt_labels.is_complex():
        raise ValueError(f'{owner}: gt_labels must be integer class indices, got {gt_labels.dtype}')
    labels = gt_labels.reshape(-1).long()
    if labels.numel() != num_samples:
        raise ValueError(f'{owner}: gt_labels has {labels.numel()} labels for {num_samples} samples')
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'{owner}: gt_labels must lie in [0, {num_classes}), found '
                         f'[{int(labels.min())}, {int(labels.max())}]')
    return labels


def reduce_batch(loss: Tensor, reduction: str) -> Tensor:
    """Per-sample losses (N,) reduced over the batch.

    Args:
        loss (Tensor): one loss per sample.
        reduction (str): ``'none'``, ``'mean'`` (batch mean) or ``'sum'``.

    Returns:
        Tensor: ``loss`` itself, its mean or its sum.
    """
    if reduction == 'none':
        return loss
    return loss.sum() if reduction == 'sum' else loss.mean()


def check_reduction(reduction: str, owner: str) -> str:
    """``reduction`` if it is one of :data:`KD_REDUCTIONS`.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        owner (str): the loss, for the message.

    Returns:
        str: ``reduction``.

    Raises:
        ValueError: naming ``reduction``, for any other value.
    """
    if reduction not in KD_REDUCTIONS:
        raise ValueError(f'{owner}: reduction must be one of {KD_REDUCTIONS}, got {reduction!r}')
    return reduction


def adopt_none_buffers(module: nn.Module, state_dict: dict, prefix: str, names: Tuple[str, ...]) -> None:
    """Give each buffer of ``names`` that is still None the shape and dtype of the checkpoint's tensor.

    A loss whose state (a class prior, a cost matrix) is created lazily registers its buffer as None, and
    torch leaves None buffers out of ``state_dict()``: a fresh loss would report the checkpoint's tensor as an
    unexpected key and drop it. Called from ``_load_from_state_dict`` before torch's own, this makes the
    buffer a placeholder of the saved shape, which torch then fills with the saved values.

    Args:
        module (nn.Module): the loss.
        state_dict (dict): the state dict being loaded.
        prefix (str): the module's prefix in ``state_dict``.
        names (tuple[str]): names of (persistent) buffers of ``module``.
    """
    for name in names:
        saved = state_dict.get(prefix + name)
        if module._buffers.get(name, 0) is None and isinstance(saved, Tensor):
            module._buffers[name] = torch.empty_like(saved)


class EpochWarmup:
    """The linear warm-up factor ``min(epoch / warmup_epochs, 1)`` of DKD and DKL/GKL (mdistiller's).

    A loss holds it as the attribute ``warmup_factor`` (1.0 until :meth:`set_epoch` is called); a hook calls
    ``set_epoch(runner.epoch + 1)`` before each epoch (mdistiller counts epochs from 1, mmengine's
    ``runner.epoch`` from 0), or ``forward`` is given ``warmup_factor=`` directly, which wins.

    Args:
        warmup_epochs (int): epochs of the linear ramp; 0 disables it (the factor stays 1). Defaults to 0.

    Raises:
        ValueError: for ``warmup_epochs`` not an integer >= 0.
    """

    def __init__(self, warmup_epochs: int = 0) -> None:
        if int(warmup_epochs) != warmup_epochs or warmup_epochs < 0:
            raise ValueError(f'warmup_epochs must be an integer >= 0, got {warmup_epochs!r}')
        self.warmup_epochs = int(warmup_epochs)
        self.warmup_factor = 1.0

    def set_epoch(self, epoch: int) -> float:
        """Set ``warmup_factor = min(epoch / warmup_epochs, 1)`` (1 without warm-up).

        Args:
            epoch (int): the epoch about to run, counted from 1 as mdistiller does.

        Returns:
            float: the new ``warmup_factor``.
        """
        self.warmup_factor = 1.0 if self.warmup_epochs == 0 else min(epoch / self.warmup_epochs, 1.0)
        return self.warmup_factor

    def resolve_warmup(self, warmup_factor: Optional[float]) -> float:
        """The factor of one call: ``warmup_factor`` when given (checked), else the attribute.

        Args:
            warmup_factor (float, optional): a factor in [0, 1] passed to ``forward``.

        Returns:
            float: the factor to multiply the loss by.

        Raises:
            ValueError: naming ``warmup_factor``, when it is outside [0, 1].
        """
        if warmup_factor is None:
            return self.warmup_factor
        w = float(warmup_factor)
        if not (0.0 <= w <= 1.0):
            raise ValueError(f'warmup_factor must lie in [0, 1], got {warmup_factor!r}')
        return w


def kd_kl(preds_S: Tensor, preds_T: Tensor, tau: float = 1.0) -> Tensor:
    """Per-sample tau^2 KL(softmax(preds_T / tau) || softmax(preds_S / tau)), from exact log-probabilities.

    No input checks (see :func:`check_kd_logits`); computed in the logits' dtype.

    Args:
        preds_S (Tensor): the student's logits (N, C).
        preds_T (Tensor): the teacher's logits (N, C).
        tau (float): the temperature. Defaults to 1.0.

    Returns:
        Tensor: (N,) the scaled divergences, >= 0.
    """
    log_p_t = (preds_T / tau).log_softmax(1)
    log_p_s = (preds_S / tau).log_softmax(1)
    return tau * tau * categorical_kl(log_p_t.exp(), None, dim=1, log_p=log_p_t, log_q=log_p_s)


@MODELS.register_module()
class KDLoss(nn.Module):
    """Hinton's KD: ``loss_weight * tau^2 * KL(p_t || p_s)`` with p = softmax(logits / tau), batch mean.

    As mdistiller's ``kd_loss`` and mmrazor's ``KLDivergence`` (reduction ``'batchmean'``): the sum over
    classes, the mean over the batch. Log-probabilities come from ``log_softmax`` (no clamping), so one-hot
    teachers and logits of +-1e4 give finite values and gradients.

    Args:
        tau (float): the temperature T > 0 (mdistiller: 4 on CIFAR, 1 on ImageNet). Defaults to 1.0.
        loss_weight (float): multiplier (mdistiller's KD weight 0.9 / 0.5; mmrazor's config 3). Defaults to 1.0.
        reduction (str): ``'mean'`` (batch mean), ``'sum'`` or ``'none'`` (one loss per sample).
            Defaults to ``'mean'``.
        teacher_detach (bool): detach ``preds_T`` (no gradient to the teacher). Defaults to True.
        loss_name (str): key in the loss dict. Defaults to ``'loss_kd'``.

    Raises:
        ValueError: for ``tau`` <= 0 or an unknown ``reduction``.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean',
                 teacher_detach: bool = True, loss_name: str = 'loss_kd') -> None:
        super().__init__()
        self.tau = check_positive(tau, 'tau', 'KDLoss')
        self.reduction = check_reduction(reduction, 'KDLoss')
        self.loss_weight, self.teacher_detach, self._loss_name = loss_weight, teacher_detach, loss_name

    def forward(self, preds_S: Tensor, preds_T: Tensor, **kwargs) -> Tensor:
        """The loss of student logits ``preds_S`` (N, C) against teacher logits ``preds_T`` (N, C).

        Args:
            preds_S (Tensor): the student's logits.
            preds_T (Tensor): the teacher's logits.
            **kwargs: ignored (e.g. ``gt_labels``).

        Returns:
            Tensor: the loss (a scalar, or (N,) for ``reduction='none'``).
        """
        s, t = check_kd_logits(preds_S, preds_T, 'KDLoss')
        if self.teacher_detach:
            t = t.detach()
        return self.loss_weight * reduce_batch(kd_kl(s, t, self.tau), self.reduction)

    @property
    def loss_name(self) -> str:
        """str: the key of the loss in the loss dict."""
        return self._loss_name
