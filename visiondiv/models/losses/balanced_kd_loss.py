"""Balanced divergence KD, BD-KD (Amara et al., arXiv 2212.12965), for online distillation.

No official code was found and the paper's formulas are not verified here: this is the description
(a per-sample mix of forward and reverse KL weighted by the teacher/student entropy gap) made concrete with
the assumptions listed in :class:`BalancedKDLoss`.
"""
import torch
from torch import Tensor, nn

from visiondiv.divergences.categorical import categorical_kl, entropy
from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_positive
from .kd_loss import check_kd_logits, check_reduction, reduce_batch


@MODELS.register_module()
class BalancedKDLoss(nn.Module):
    """BD-KD: ``loss_weight * tau^2 * ((1 - w) KL(p_t || p_s) + w KL(p_s || p_t))`` per sample, batch mean.

    p = softmax(z / tau). ASSUMPTIONS (the paper's text, not its code, which was not found):

    - the weight is w_n = sigmoid(sharpness * (H(p_s,n) - H(p_t,n))), computed without gradient: a student
      less confident than its teacher (higher entropy) leans on the mode-seeking reverse KL, which sharpens
      it; an over-confident student (lower entropy) on the mass-covering forward KL, which spreads it; equal
      entropies give the even mix 1/2. ``sharpness`` -> inf is a hard switch;
    - both KLs are at the same temperature and scaled by tau^2, as Hinton's KD;
    - for online KD (``teacher_trainable=True``) the same expression back-propagates into the teacher's
      logits (the paper regularises the teacher with the reverse KL; use ``teacher_trainable=True`` on a
      second instance, or this one, for the teacher's loss); otherwise the teacher is detached.

    Args:
        tau (float): the temperature T > 0. Defaults to 1.0.
        sharpness (float): slope of the sigmoid of the entropy gap, > 0. Defaults to 1.0.
        teacher_trainable (bool): let gradients reach ``preds_T``. Defaults to False.
        loss_weight (float): multiplier. Defaults to 1.0.
        reduction (str): ``'mean'`` (batch mean), ``'sum'`` or ``'none'``. Defaults to ``'mean'``.
        loss_name (str): key in the loss dict. Defaults to ``'loss_bdkd'``.

    Raises:
        ValueError: for ``tau`` or ``sharpness`` <= 0 or an unknown ``reduction``.
    """

    def __init__(self, tau: float = 1.0, sharpness: float = 1.0, teacher_trainable: bool = False,
                 loss_weight: float = 1.0, reduction: str = 'mean', loss_name: str = 'loss_bdkd') -> None:
        super().__init__()
        self.tau = check_positive(tau, 'tau', 'BalancedKDLoss')
        self.sharpness = check_positive(sharpness, 'sharpness', 'BalancedKDLoss')
        self.reduction = check_reduction(reduction, 'BalancedKDLoss')
        self.teacher_trainable, self.loss_weight, self._loss_name = teacher_trainable, loss_weight, loss_name

    def balance(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The reverse-KL weight w (N,) of each sample, without gradient.

        Args:
            preds_S (Tensor): the student's logits (N, C).
            preds_T (Tensor): the teacher's logits (N, C).

        Returns:
            Tensor: (N,) weights in (0, 1).
        """
        with torch.no_grad():
            s, t = check_kd_logits(preds_S, preds_T, 'BalancedKDLoss')
            h_s = entropy((s / self.tau).softmax(1), dim=1)
            h_t = entropy((t / self.tau).softmax(1), dim=1)
            return torch.sigmoid(self.sharpness * (h_s - h_t))

    def forward(self, preds_S: Tensor, preds_T: Tensor, **kwargs) -> Tensor:
        """The loss of student logits against teacher logits.

        Args:
            preds_S (Tensor): the student's logits (N, C).
            preds_T (Tensor): the teacher's logits (N, C).
            **kwargs: ignored.

        Returns:
            Tensor: the loss (a scalar, or (N,) for ``reduction='none'``).
        """
        s, t = check_kd_logits(preds_S, preds_T, 'BalancedKDLoss')
        if not self.teacher_trainable:
            t = t.detach()
        w = self.balance(s, t)
        log_p_s, log_p_t = (s / self.tau).log_softmax(1), (t / self.tau).log_softmax(1)
        forward_kl = categorical_kl(log_p_t.exp(), None, dim=1, log_p=log_p_t, log_q=log_p_s)
        reverse_kl = categorical_kl(log_p_s.exp(), None, dim=1, log_p=log_p_s, log_q=log_p_t)
        per = self.tau * self.tau * ((1 - w) * forward_kl + w * reverse_kl)
        return self.loss_weight * reduce_batch(per, self.reduction)

    @property
    def loss_name(self) -> str:
        """str: the key of the loss in the loss dict."""
        return self._loss_name
