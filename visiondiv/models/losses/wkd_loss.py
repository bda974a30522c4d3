"""Wasserstein distance KD on logits, WKD-L (Lv et al., NeurIPS 2024)."""
import math
from typing import Dict, Optional

import torch
from torch import Tensor, nn

from visiondiv.divergences.optimal_transport import SINKHORN_METHODS, sinkhorn
from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_finite, check_non_negative, check_positive
from .kd_loss import adopt_none_buffers, check_class_matrix, check_gt_labels, check_kd_logits


def class_cost(dist: Tensor, kappa: float = 1.0) -> Tensor:
    """WKD's ground cost between classes: ``relu(1 - exp(-kappa * dist)) + 1e-8``.

    Args:
        dist (Tensor): (C, C) class-to-class distances (1 - cosine of teacher classifier rows, or 1 - CKA).
        kappa (float): the sharpness kappa > 0 (WKD: 1; 2 for R50->MV1). Defaults to 1.0.

    Returns:
        Tensor: (C, C) costs in [1e-8, 1 + 1e-8).
    """
    return (1 - torch.exp(-kappa * dist)).clamp_min(0) + 1e-8


def classifier_cost(weight: Tensor, kappa: float = 1.0) -> Tensor:
    """:func:`class_cost` of the cosine distance between the rows of a (teacher) classifier's weight.

    Args:
        weight (Tensor): (C, D) the classifier's weight, one row per class.
        kappa (float): the sharpness kappa > 0. Defaults to 1.0.

    Returns:
        Tensor: (C, C) costs, detached.
    """
    w = torch.nn.functional.normalize(weight.detach().float(), dim=1)
    return class_cost(1 - w @ w.t(), kappa)


@MODELS.register_module()
class WassersteinKDLoss(nn.Module):
    """WKD-L: ``loss_weight * (target_weight * L_t + wd_weight * WD)``.

    - L_t = -mean_n p_t[y] log p_s[y], softmax at temperature 1 (WKD's code);
    - WD = mean_n <P_n, M>: entropic OT (:func:`~visiondiv.divergences.sinkhorn`, ``n_iters`` iterations,
      regularisation ``eps`` = WKD's lambda, gradients through the iterations) between the teacher's and the
      student's non-target distributions, softmax(z / tau) over the C - 1 non-target classes. The target
      class is kept with mass 0 (its plan row/column is 0), which equals WKD's dropping it, so one (C, C)
      cost M serves the batch. No tau^2.

    M comes from ``cost_matrix`` (a (C, C) ground cost, used as given), or from the teacher classifier's
    weight (:meth:`set_classifier`, cosine distance through :func:`class_cost` with ``kappa``), or per call.
    WKD's total is CE + L_t + w(epoch) WD: with ``wd_decay=dict(start_epoch=s, end_epoch=e)`` the weight of WD
    is ``wd_weight * wd_factor``, ``wd_factor`` set by :meth:`set_epoch` (called by
    :class:`~visiondiv.engine.hooks.DistillEpochHook` before each epoch, from the runner's epoch, so a resumed
    run continues the schedule): 1 up to epoch s, then ``(1 + cos(pi (epoch - s) / (e - s))) / 2``, 0 from
    epoch e on (WKD's ``COSINE_DECAY_EPOCH`` s, ``SOLVER.EPOCHS`` e, epochs counted from 1; only WD decays,
    not L_t).

    Args:
        tau (float): temperature of the non-target distributions > 0 (WKD: 2 on ImageNet, 8 or 6 on CIFAR).
            Defaults to 2.0.
        eps (float): the entropic regularisation lambda > 0. Defaults to 0.05.
        n_iters (int): Sinkhorn iterations. Defaults to 10.
        method (str): Sinkhorn's ``method`` (``'auto'``: the scaling domain while max(M) / eps <= 50, which
            needs O(N C) memory beyond M; else the log domain, O(N C^2)). Defaults to ``'auto'``.
        cost_matrix (Tensor, optional): (C, C) non-negative ground cost. Defaults to None.
        classifier_weight (Tensor, optional): (C, D) teacher classifier weight, to build the cost from.
            Defaults to None.
        kappa (float): sharpness of the cost from distances. Defaults to 1.0.
        wd_weight (float): w, the weight of WD (WKD: 30 R34->R18, 25 R50->MV1, 600 CIFAR). Defaults to 1.0.
        wd_decay (dict, optional): ``dict(start_epoch=s, end_epoch=e)``, the cosine decay of ``wd_weight``
            (WKD: CIFAR 150, 240; ImageNet 0, 100); None keeps it constant. Defaults to None.
        target_weight (float): weight of L_t. Defaults to 1.0.
        loss_weight (float): multiplier. Defaults to 1.0.
        teacher_detach (bool): detach ``preds_T``. Defaults to True.
        loss_name (str): key in the loss dict. Defaults to ``'loss_wkd'``.

    Raises:
        ValueError: for ``tau``/``eps``/``kappa`` <= 0, negative weights, an unknown method, a bad cost or a bad
            ``wd_decay`` (other keys, not integers with 0 <= start_epoch < end_epoch).
    """

    #: the name of the factor :meth:`set_epoch` returns, logged by the hook as ``train/<loss>_wd_decay``
    epoch_factor_name = 'wd_decay'

    def __init__(self, tau: float = 2.0, eps: float = 0.05, n_iters: int = 10, method: str = 'auto',
                 cost_matrix: Optional[Tensor] = None, classifier_weight: Optional[Tensor] = None,
                 kappa: float = 1.0, wd_weight: float = 1.0, target_weight: float = 1.0, loss_weight: float = 1.0,
                 teacher_detach: bool = True, loss_name: str = 'loss_wkd',
                 wd_decay: Optional[Dict[str, int]] = None) -> None:
        super().__init__()
        owner = 'WassersteinKDLoss'
        self.tau = check_positive(tau, 'tau', owner)
        self.eps = check_positive(eps, 'eps', owner)
        self.kappa = check_positive(kappa, 'kappa', owner)
        if int(n_iters) != n_iters or n_iters < 1:
            raise ValueError(f'{owner}: n_iters must be an integer >= 1, got {n_iters!r}')
        if method not in SINKHORN_METHODS:
            raise ValueError(f'{owner}: method must be one of {SINKHORN_METHODS}, got {method!r}')
        self.n_iters, self.method = int(n_iters), method
        self.wd_weight = check_non_negative(wd_weight, 'wd_weight', owner)
        self.target_weight = check_non_negative(target_weight, 'target_weight', owner)
        self.wd_decay = self._check_decay(wd_decay)
        self.wd_factor = 1.0
        self.loss_weight, self.teacher_detach, self._loss_name = loss_weight, teacher_detach, loss_name
        self.register_buffer('cost_matrix', None)
        if cost_matrix is not None:
            self.cost_matrix = self._check_cost(torch.as_tensor(cost_matrix))
        elif classifier_weight is not None:
            self.set_classifier(classifier_weight)

    @staticmethod
    def _check_decay(wd_decay: Optional[Dict[str, int]]) -> Optional[Dict[str, int]]:
        if wd_decay is None:
            return None
        owner = 'WassersteinKDLoss'
        if not isinstance(wd_decay, dict) or set(wd_decay) != {'start_epoch', 'end_epoch'}:
            raise ValueError(f'{owner}: wd_decay must be dict(start_epoch=..., end_epoch=...), got {wd_decay!r}')
        start, end = wd_decay['start_epoch'], wd_decay['end_epoch']
        if any(isinstance(v, bool) or int(v) != v for v in (start, end)) or not 0 <= start < end:
            raise ValueError(f'{owner}: wd_decay needs integers 0 <= start_epoch < end_epoch, got {wd_decay!r}')
        return dict(start_epoch=int(start), end_epoch=int(end))

    def decay_factor(self, epoch: int) -> float:
        """WKD's cosine factor of ``wd_weight`` at ``epoch`` (counted from 1); 1 without ``wd_decay``.

        Args:
            epoch (int): the epoch about to run, counted from 1 as WKD (mdistiller) does.

        Returns:
            float: 1 up to ``start_epoch``, ``(1 + cos(pi (epoch - start) / (end - start))) / 2`` after it, 0 from
            ``end_epoch`` on.
        """
        if self.wd_decay is None or epoch <= self.wd_decay['start_epoch']:
            return 1.0
        start, end = self.wd_decay['start_epoch'], self.wd_decay['end_epoch']
        if epoch >= end:
            return 0.0
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - start) / (end - start)))

    def set_epoch(self, epoch: int) -> float:
        """Set ``wd_factor = decay_factor(epoch)``, the multiplier of ``wd_weight`` in the epoch about to run.

        Args:
            epoch (int): the epoch about to run, counted from 1.

        Returns:
            float: the new ``wd_factor``.
        """
        self.wd_factor = self.decay_factor(epoch)
        return self.wd_factor

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # a fresh loss (cost_matrix still None) takes a saved cost instead of calling it unexpected
        adopt_none_buffers(self, state_dict, prefix, ('cost_matrix',))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @staticmethod
    def _check_cost(cost: Tensor, num_classes: Optional[int] = None) -> Tensor:
        return check_class_matrix(cost, 'cost_matrix', 'WassersteinKDLoss', num_classes).detach()

    def set_classifier(self, weight: Tensor) -> None:
        """Build the cost from the teacher classifier's (C, D) weight (:func:`classifier_cost`).

        Args:
            weight (Tensor): (C, D), one row per class.

        Raises:
            ValueError: naming ``classifier_weight``, when it is not 2-D or not finite.
        """
        if weight.dim() != 2:
            raise ValueError(f'WassersteinKDLoss: classifier_weight must be (C, D), got {tuple(weight.shape)}')
        check_finite(weight, 'WassersteinKDLoss', 'values of classifier_weight')
        self.cost_matrix = classifier_cost(weight, self.kappa)

    def forward(self, preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor, cost_matrix: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """The loss of student logits against teacher logits, given the labels.

        Args:
            preds_S (Tensor): the student's logits (N, C), C >= 2.
            preds_T (Tensor): the teacher's logits (N, C).
            gt_labels (Tensor): (N,) integer labels.
            cost_matrix (Tensor, optional): a (C, C) cost for this call only. Defaults to None.
            **kwargs: ignored.

        Returns:
            Tensor: the scalar loss.
        """
        owner = 'WassersteinKDLoss'
        s, t = check_kd_logits(preds_S, preds_T, owner)
        n, c = s.shape
        if c < 2:
            raise ValueError(f'{owner}: preds_S must have at least 2 classes, has {c}')
        labels = check_gt_labels(gt_labels, n, c, owner)
        cost = self.cost_matrix if cost_matrix is None else cost_matrix
        if cost is None:
            raise ValueError(f'{owner}: no cost_matrix: pass cost_matrix or classifier_weight')
        cost = self._check_cost(torch.as_tensor(cost), c).to(s)
        if self.teacher_detach:
            t = t.detach()
        target_t = t.softmax(1).gather(1, labels[:, None])[:, 0]
        log_target_s = s.log_softmax(1).gather(1, labels[:, None])[:, 0]
        loss_t = -(target_t * log_target_s).mean()
        mask = torch.zeros_like(s, dtype=torch.bool).scatter_(1, labels[:, None], True)
        log_a = (t / self.tau).masked_fill(mask, -math.inf).log_softmax(1)
        log_b = (s / self.tau).masked_fill(mask, -math.inf).log_softmax(1)
        wd, _ = sinkhorn(cost, log_a=log_a, log_b=log_b, eps=self.eps, n_iters=self.n_iters, method=self.method,
                         return_plan=False)
        return self.loss_weight * (self.target_weight * loss_t + self.wd_weight * self.wd_factor * wd.mean())

    @property
    def loss_name(self) -> str:
        """str: the key of the loss in the loss dict."""
        return self._loss_name
