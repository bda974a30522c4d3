"""Decoupled / generalised KL distillation (DKL/IKL, Cui et al. NeurIPS 2024; GKL, arXiv 2503.08038).

KL(s_m || s_n) has the gradients of a weighted MSE on pairwise logit gaps plus a soft-label cross-entropy::

    DKL = alpha / 4 * sum_jk w^j w^k (dm_jk - dn_jk)^2 - beta * S(s_m)^T log s_n,   d_jk = o^j - o^k,

with w = S(s_m), S the stop-gradient, m the teacher and n the student. IKL/GKL let the gradient reach the
student's gaps dn (in KD the teacher gets none, so the MSE term would be inert) and replace the per-sample
weights by class-wise global ones, the mean teacher probabilities of the sample's class.
"""
from typing import Optional

import torch
from torch import Tensor, nn

from visiondiv.divergences.categorical import cross_entropy
from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_finite, check_non_negative, check_positive
from .kd_loss import EpochWarmup, adopt_none_buffers, check_class_matrix, check_gt_labels, check_kd_logits

#: where the weights of the pairwise MSE come from
DKL_WEIGHTS = ('sample', 'class')
#: what the pairwise MSE is divided by: the total weight sum_n (sum_j w_j)^2 (GKL's code) or N (IKL, v1)
DKL_NORMALIZE = ('weight', 'batch')


def pairwise_wmse(preds_S: Tensor, preds_T: Tensor, weight: Tensor) -> Tensor:
    """Per-sample sum_jk w_j w_k ((t_j - t_k) - (s_j - s_k))^2 in O(N C) time and memory.

    With d = t - s, sum_jk w_j w_k (d_j - d_k)^2 = 2 W sum_j w_j (d_j - m)^2, W = sum_j w_j and m = sum_j w_j d_j
    / W (expand the square: 2 W sum_j w_j d_j^2 - 2 (sum_j w_j d_j)^2, written centred so that nothing cancels).
    Equal to :func:`pairwise_wmse_dense` (the O(N C^2) form) up to rounding.

    Args:
        preds_S (Tensor): the student's logits (N, C).
        preds_T (Tensor): the teacher's logits (N, C).
        weight (Tensor): (N, C) non-negative weights w.

    Returns:
        Tensor: (N,) the weighted sums.
    """
    d = preds_T - preds_S
    total = weight.sum(1, keepdim=True)
    mean = (weight * d).sum(1, keepdim=True) / total.clamp_min(torch.finfo(d.dtype).tiny)
    return 2 * total[:, 0] * (weight * (d - mean).square()).sum(1)


def pairwise_wmse_dense(preds_S: Tensor, preds_T: Tensor, weight: Tensor) -> Tensor:
    """Per-sample sum_jk w_j w_k ((t_j - t_k) - (s_j - s_k))^2 with the (N, C, C) gap tensors (the code's form).

    Args:
        preds_S (Tensor): the student's logits (N, C).
        preds_T (Tensor): the teacher's logits (N, C).
        weight (Tensor): (N, C) non-negative weights w.

    Returns:
        Tensor: (N,) the weighted sums.
    """
    gap_s = preds_S[:, :, None] - preds_S[:, None, :]
    gap_t = preds_T[:, :, None] - preds_T[:, None, :]
    pair = weight[:, :, None] * weight[:, None, :]
    return (pair * (gap_t - gap_s).square()).sum((1, 2))


@MODELS.register_module()
class DecoupledKLLoss(nn.Module, EpochWarmup):
    """DKL/IKL/GKL: ``loss_weight * w * (alpha * wMSE + beta * CE_soft)``.

    - wMSE = 1/4 * sum_n sum_jk P_njk (dt_njk - ds_njk)^2 / Z on the RAW logits (no temperature), P_n =
      q_n q_n^T, q_n = S(softmax(z_t / tau_weight))^gamma (``weights='sample'``) or class_prior[y_n]^gamma
      (``weights='class'``, GKL's "GI"); Z = sum_njk P_njk (``normalize='weight'``, GKL's code) or N
      (``'batch'``, IKL v1). Computed in O(N C) (:func:`pairwise_wmse`). The student's gaps are NOT
      detached (IKL's "breaking asymmetry"); ``detach_student_gaps=True`` gives the original DKL.
    - CE_soft = -mean_n sum_c S(softmax(z_t / tau)) log softmax(z_s / tau), without tau^2.
    - w is the linear warm-up (:class:`EpochWarmup`: ``set_epoch`` or the ``warmup_factor`` argument).

    alpha and beta follow the PAPER: alpha weighs the wMSE, beta the soft CE. The official code
    (DKLv2 ``GKL_KD.py``) swaps the names: its ALPHA weighs the soft CE and its BETA the wMSE, so its
    ``ALPHA=1, BETA=16`` is ``alpha=16, beta=1`` here.

    What holds exactly (tested): with ``detach_student_gaps=True`` the student's gradient is that of
    KL_tau(p_t || p_s) (beta = 1; any weights, the wMSE then has no student gradient). With the teacher not
    detached, per-sample weights, gamma = 1, tau_weight = tau and alpha = 1, the teacher's gradient is
    tau^2 times that of KL_tau (the wMSE is on raw logits), so at tau = 1 the whole gradient is KL's: the
    paper's theorem.

    The class prior (C, C) is row y = mean teacher probabilities (at tau_weight) of the samples of class y
    over the previous epoch, uniform 1/C before one is set (GKL's first epoch). Set it with
    :meth:`set_class_prior`, or accumulate it with :meth:`accumulate_class_prior` and publish it with
    :meth:`step_class_prior` at the end of an epoch; ``forward(class_prior=...)`` overrides it for one call.
    The published prior is the persistent buffer ``class_prior`` (in the model's state dict, so a resumed run
    keeps it; a fresh loss built without ``num_classes`` takes the saved one's shape when loading); the sums
    of the epoch under way are not saved (a run resumed from a mid-epoch checkpoint sums from there on).

    Args:
        alpha (float): weight of the wMSE (paper's alpha; the code's BETA), >= 0. Defaults to 1.0.
        beta (float): weight of the soft CE (paper's beta; the code's ALPHA), >= 0. Defaults to 1.0.
        gamma (float): exponent of the weights q, >= 0. Defaults to 1.0.
        tau (float): temperature T > 0 of the soft CE (CIFAR 4, ImageNet 1). Defaults to 1.0.
        tau_weight (float, optional): temperature T2 > 0 of the weights (and of the accumulated class prior);
            None takes ``tau``. Defaults to None.
        weights (str): ``'sample'`` (teacher probabilities of the sample) or ``'class'`` (class prior).
            Defaults to ``'sample'``.
        normalize (str): ``'weight'`` or ``'batch'`` (see above). Defaults to ``'weight'``.
        num_classes (int, optional): C, to create the uniform class prior at construction (else at the first
            call). Defaults to None.
        class_prior (Tensor, optional): the initial (C, C) class prior. Defaults to None (uniform).
        detach_student_gaps (bool): stop the wMSE's gradient to the student (the original DKL). Defaults to
            False.
        teacher_detach (bool): detach ``preds_T``. Defaults to True.
        warmup_epochs (int): epochs of the linear warm-up (GKL: 5, CIFAR 20), 0 for none. Defaults to 0.
        loss_weight (float): multiplier. Defaults to 1.0.
        loss_name (str): key in the loss dict. Defaults to ``'loss_dkl'``.

    Raises:
        ValueError: for ``tau``/``tau_weight`` <= 0, ``gamma``/``alpha``/``beta`` < 0, an unknown ``weights`` or
            ``normalize``, or an invalid ``class_prior``.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.0, tau: float = 1.0,
                 tau_weight: Optional[float] = None, weights: str = 'sample', normalize: str = 'weight',
                 num_classes: Optional[int] = None, class_prior: Optional[Tensor] = None,
                 detach_student_gaps: bool = False, teacher_detach: bool = True, warmup_epochs: int = 0,
                 loss_weight: float = 1.0, loss_name: str = 'loss_dkl') -> None:
        nn.Module.__init__(self)
        EpochWarmup.__init__(self, warmup_epochs)
        owner = type(self).__name__
        self.alpha = check_non_negative(alpha, 'alpha', owner)
        self.beta = check_non_negative(beta, 'beta', owner)
        self.gamma = check_non_negative(gamma, 'gamma', owner)
        self.tau = check_positive(tau, 'tau', owner)
        self.tau_weight = self.tau if tau_weight is None else check_positive(tau_weight, 'tau_weight', owner)
        if weights not in DKL_WEIGHTS:
            raise ValueError(f'{owner}: weights must be one of {DKL_WEIGHTS}, got {weights!r}')
        if normalize not in DKL_NORMALIZE:
            raise ValueError(f'{owner}: normalize must be one of {DKL_NORMALIZE}, got {normalize!r}')
        self.weights, self.normalize = weights, normalize
        self.detach_student_gaps, self.teacher_detach = detach_student_gaps, teacher_detach
        self.loss_weight, self._loss_name = loss_weight, loss_name
        self.register_buffer('class_prior', None)
        self.register_buffer('_prior_sum', None, persistent=False)
        if class_prior is not None:
            self.set_class_prior(class_prior)
        elif num_classes is not None:
            self.set_class_prior(torch.full((num_classes, num_classes), 1.0 / num_classes))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # a fresh loss (class_prior still None) takes a saved prior instead of calling it unexpected
        adopt_none_buffers(self, state_dict, prefix, ('class_prior',))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_prior(self, prior: Tensor, num_classes: Optional[int] = None) -> Tensor:
        return check_class_matrix(torch.as_tensor(prior), 'class_prior', type(self).__name__, num_classes)

    def set_class_prior(self, prior: Tensor) -> None:
        """Use ``prior`` as the class prior from now on.

        Args:
            prior (Tensor): (C, C), row y the mean teacher probabilities of class y (kept in its floating dtype).

        Raises:
            ValueError: naming ``class_prior``, when it is not square, not finite or has a negative entry.
        """
        prior = self._check_prior(prior).detach().clone()
        self.class_prior = prior if prior.is_floating_point() else prior.float()

    @torch.no_grad()
    def accumulate_class_prior(self, preds_T: Tensor, gt_labels: Tensor) -> None:
        """Add softmax(preds_T / tau_weight) to the running per-class sums (GKL's trainer).

        Args:
            preds_T (Tensor): the teacher's logits (N, C).
            gt_labels (Tensor): (N,) integer labels.
        """
        owner = type(self).__name__
        t = check_finite(preds_T, owner, 'values of preds_T').float()
        labels = check_gt_labels(gt_labels, t.size(0), t.size(1), owner)
        if self._prior_sum is None or self._prior_sum.size(0) != t.size(1):
            self._prior_sum = t.new_zeros(t.size(1), t.size(1))
        self._prior_sum.index_add_(0, labels, (t / self.tau_weight).softmax(1))

    def reset_class_prior_sums(self) -> None:
        """Drop the running sums: an epoch starts. A resumed run starts from a fresh process with no sums; this
        guards an epoch restarted in the same process (training re-entered after an exception), whose earlier
        attempt's sums must not count twice."""
        self._prior_sum = None

    def step_class_prior(self) -> Optional[Tensor]:
        """Publish the accumulated sums, row-normalised, as the class prior, and restart the sums.

        A class that had no sample keeps its previous row (uniform 1/C if there was none).

        Returns:
            Tensor, optional: the new class prior, None when nothing was accumulated.
        """
        if self._prior_sum is None:
            return None
        sums, c = self._prior_sum, self._prior_sum.size(0)
        old = self.class_prior if self.class_prior is not None and self.class_prior.size(0) == c else \
            sums.new_full((c, c), 1.0 / c)
        rows = sums.sum(1, keepdim=True)
        self.class_prior = torch.where(rows > 0, sums / rows.clamp_min(1e-12), old.to(sums))
        self._prior_sum = None
        return self.class_prior

    def forward(self, preds_S: Tensor, preds_T: Tensor, gt_labels: Optional[Tensor] = None,
                warmup_factor: Optional[float] = None, class_prior: Optional[Tensor] = None, **kwargs) -> Tensor:
        """The loss of student logits against teacher logits.

        Args:
            preds_S (Tensor): the student's logits (N, C).
            preds_T (Tensor): the teacher's logits (N, C).
            gt_labels (Tensor, optional): (N,) integer labels, required for ``weights='class'``.
                Defaults to None.
            warmup_factor (float, optional): the warm-up factor of this call; None uses the attribute.
                Defaults to None.
            class_prior (Tensor, optional): a (C, C) class prior for this call only. Defaults to None.
            **kwargs: ignored.

        Returns:
            Tensor: the scalar loss.
        """
        owner = type(self).__name__
        s, t = check_kd_logits(preds_S, preds_T, owner)
        if self.teacher_detach:
            t = t.detach()
        n, c = s.shape
        with torch.no_grad():
            if self.weights == 'sample':
                q = (t / self.tau_weight).softmax(1)
            else:
                labels = check_gt_labels(gt_labels, n, c, owner)
                prior = self.class_prior if class_prior is None else class_prior
                prior = self._check_prior(prior, c) if prior is not None else t.new_full((c, c), 1.0 / c)
                q = prior.to(t)[labels]
            q = q.pow(self.gamma)
        wmse = pairwise_wmse(s.detach() if self.detach_student_gaps else s, t, q)
        norm = q.sum(1).square().sum() if self.normalize == 'weight' else q.new_tensor(float(n))
        wmse = 0.25 * wmse.sum() / norm.clamp_min(torch.finfo(q.dtype).tiny)
        soft = (t.detach() / self.tau).softmax(1)
        ce = cross_entropy(soft, (s / self.tau).log_softmax(1), dim=1).mean()
        return self.loss_weight * self.resolve_warmup(warmup_factor) * (self.alpha * wmse + self.beta * ce)

    @property
    def loss_name(self) -> str:
        """str: the key of the loss in the loss dict."""
        return self._loss_name


@MODELS.register_module()
class GeneralizedKLLoss(DecoupledKLLoss):
    """GKL: :class:`DecoupledKLLoss` with GKL's defaults, class-wise global weights (``weights='class'``).

    GKL's ImageNet R34->R18 setting is ``alpha=0.5, beta=1, gamma=0.6`` here (code: ALPHA 1, BETA 0.5).

    Args:
        alpha (float): weight of the wMSE (paper's alpha). Defaults to 1.0.
        beta (float): weight of the soft CE (paper's beta). Defaults to 1.0.
        gamma (float): exponent of the weights. Defaults to 1.0.
        weights (str): ``'class'`` or ``'sample'``. Defaults to ``'class'``.
        loss_name (str): key in the loss dict. Defaults to ``'loss_gkl'``.
        **kwargs: the other arguments of :class:`DecoupledKLLoss`.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, gamma: float = 1.0, weights: str = 'class',
                 loss_name: str = 'loss_gkl', **kwargs) -> None:
        super().__init__(alpha=alpha, beta=beta, gamma=gamma, weights=weights, loss_name=loss_name, **kwargs)
