"""Decoupled knowledge distillation (Zhao et al., CVPR 2022): target-class and non-target-class KD."""
from typing import Optional, Tuple

from torch import Tensor, nn
import torch

from visiondiv.divergences.categorical import categorical_kl
from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_non_negative, check_positive
from .kd_loss import EpochWarmup, check_gt_labels, check_kd_logits, check_reduction, reduce_batch


def non_target_index(labels: Tensor, num_classes: int) -> Tensor:
    """The indices of the C - 1 non-target classes of each sample, in increasing order.

    Args:
        labels (Tensor): (N,) int64 target classes.
        num_classes (int): C.

    Returns:
        Tensor: (N, C - 1) int64; row n is ``[0, C)`` without ``labels[n]``.
    """
    base = torch.arange(num_classes - 1, device=labels.device).expand(labels.numel(), -1)
    return base + (base >= labels[:, None]).long()


def dkd_terms(preds_S: Tensor, preds_T: Tensor, labels: Tensor, tau: float = 1.0) -> Tuple[Tensor, Tensor]:
    """Per-sample TCKD and NCKD (both scaled by tau^2), from exact log-probabilities.

    With p = softmax(z / tau) and y the label: TCKD = tau^2 KL(b_t || b_s), b = [p_y, 1 - p_y]; NCKD =
    tau^2 KL(p_hat_t || p_hat_s), p_hat the softmax over the C - 1 non-target classes (mdistiller masks the
    target logit with -1000; here the target column is dropped, which is exact). log(1 - p_y) is
    ``logsumexp`` of the non-target logits minus that of all logits, so a one-hot teacher gives finite terms.
    Per sample, KD = TCKD + (1 - p_y^t) NCKD exactly (the paper's Eq. 5).

    Args:
        preds_S (Tensor): the student's logits (N, C), C >= 2.
        preds_T (Tensor): the teacher's logits (N, C).
        labels (Tensor): (N,) int64 target classes.
        tau (float): the temperature. Defaults to 1.0.

    Returns:
        tuple[Tensor, Tensor]: TCKD (N,) and NCKD (N,).
    """
    zs, zt = preds_S / tau, preds_T / tau
    idx = non_target_index(labels, zs.size(1))
    nt_s, nt_t = zs.gather(1, idx), zt.gather(1, idx)
    lse_s, lse_t = zs.logsumexp(1), zt.logsumexp(1)
    log_b_s = torch.stack([zs.gather(1, labels[:, None])[:, 0] - lse_s, nt_s.logsumexp(1) - lse_s], 1)
    log_b_t = torch.stack([zt.gather(1, labels[:, None])[:, 0] - lse_t, nt_t.logsumexp(1) - lse_t], 1)
    tckd = categorical_kl(log_b_t.exp(), None, dim=1, log_p=log_b_t, log_q=log_b_s)
    log_h_s, log_h_t = nt_s.log_softmax(1), nt_t.log_softmax(1)
    nckd = categorical_kl(log_h_t.exp(), None, dim=1, log_p=log_h_t, log_q=log_h_s)
    return tau * tau * tckd, tau * tau * nckd


@MODELS.register_module()
class DKDLoss(nn.Module, EpochWarmup):
    """DKD: ``loss_weight * w * (alpha * TCKD + beta * NCKD)``, divided by the batch size.

    TCKD and NCKD as :func:`dkd_terms` (tau^2 included), w the linear warm-up ``min(epoch / warmup_epochs, 1)``
    (:class:`EpochWarmup`: the attribute ``warmup_factor``, set by ``set_epoch(epoch)`` with epochs counted
    from 1, or the ``warmup_factor`` argument of ``forward``, which wins). mdistiller's total is
    CE + w * (alpha TCKD + beta NCKD); the CE is the student's own loss, not part of this one.

    The sums over the batch are divided by N as in the paper and mdistiller. mmrazor's ``DKDLoss`` passes
    ``size_average=False`` together with ``reduction`` to ``F.kl_div``, so the legacy argument wins and its
    loss is the batch SUM (N times this one, ``reduction`` ignored): a known reduction bug; it also neither
    detaches the teacher nor warms up. With alpha = beta = 1 this loss is NOT KD: KD = TCKD + (1 - p_y^t) NCKD
    per sample, so DKD(1, 1) = KD + mean_n p_y^t NCKD.

    Args:
        tau (float): the temperature T > 0 (mdistiller: 4 on CIFAR, 1 on ImageNet). Defaults to 4.0.
        alpha (float): weight of TCKD, >= 0. Defaults to 1.0.
        beta (float): weight of NCKD, >= 0 (mdistiller: 8; 2 or 6 for some CIFAR pairs; 0.5 for
            ImageNet R34->R18). Defaults to 8.0.
        warmup_epochs (int): epochs of the linear warm-up, 0 for none (mdistiller: 20 on CIFAR, 1 on
            ImageNet; it only acts once a hook calls ``set_epoch``). Defaults to 0.
        loss_weight (float): multiplier. Defaults to 1.0.
        reduction (str): ``'mean'`` (sum / N), ``'sum'`` (mmrazor's effective reduction) or ``'none'``
            (one loss per sample). Defaults to ``'mean'``.
        teacher_detach (bool): detach ``preds_T``. Defaults to True.
        loss_name (str): key in the loss dict. Defaults to ``'loss_dkd'``.

    Raises:
        ValueError: for ``tau`` <= 0, a negative ``alpha``/``beta``, a bad ``warmup_epochs`` or ``reduction``.
    """

    def __init__(self, tau: float = 4.0, alpha: float = 1.0, beta: float = 8.0, warmup_epochs: int = 0,
                 loss_weight: float = 1.0, reduction: str = 'mean', teacher_detach: bool = True,
                 loss_name: str = 'loss_dkd') -> None:
        nn.Module.__init__(self)
        EpochWarmup.__init__(self, warmup_epochs)
        self.tau = check_positive(tau, 'tau', 'DKDLoss')
        self.alpha = check_non_negative(alpha, 'alpha', 'DKDLoss')
        self.beta = check_non_negative(beta, 'beta', 'DKDLoss')
        self.reduction = check_reduction(reduction, 'DKDLoss')
        self.loss_weight, self.teacher_detach, self._loss_name = loss_weight, teacher_detach, loss_name

    def forward(self, preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor,
                warmup_factor: Optional[float] = None, **kwargs) -> Tensor:
        """The loss of student logits against teacher logits, given the labels.

        Args:
            preds_S (Tensor): the student's logits (N, C), C >= 2.
            preds_T (Tensor): the teacher's logits (N, C).
            gt_labels (Tensor): (N,) integer labels.
            warmup_factor (float, optional): the warm-up factor of this call, in [0, 1]; None uses the
                attribute ``warmup_factor``. Defaults to None.
            **kwargs: ignored.

        Returns:
            Tensor: the loss (a scalar, or (N,) for ``reduction='none'``).
        """
        s, t = check_kd_logits(preds_S, preds_T, 'DKDLoss')
        if s.size(1) < 2:
            raise ValueError(f'DKDLoss: preds_S must have at least 2 classes, has {s.size(1)}')
        labels = check_gt_labels(gt_labels, s.size(0), s.size(1), 'DKDLoss')
        if self.teacher_detach:
            t = t.detach()
        tckd, nckd = dkd_terms(s, t, labels, self.tau)
        w = self.resolve_warmup(warmup_factor)
        return self.loss_weight * w * reduce_batch(self.alpha * tckd + self.beta * nckd, self.reduction)

    @property
    def loss_name(self) -> str:
        """str: the key of the loss in the loss dict."""
        return self._loss_name
