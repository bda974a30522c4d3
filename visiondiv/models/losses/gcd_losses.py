"""Losses of generalized category discovery: SimGCD (Wen et al., ICCV 2023) and LegoGCD (Cao et al., CVPR 2024).

Every loss takes the two augmented views stacked view-major, ``(V * B, ...)`` (view 0's batch, then view
1's), as SimGCD's ``torch.cat(images)`` does. Half-precision inputs are computed in fp32. The divergences
come from :mod:`visiondiv.divergences.categorical` (one KL, one entropy, one cross-entropy in the package).
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.utils.validation import check_positive
from visiondiv.divergences.categorical import categorical_kl, cross_entropy, entropy
from .utils import compute_dtype


def _fp32(x: Tensor) -> Tensor:
    return x.to(compute_dtype(x.dtype))


def split_views(x: Tensor, num_views: int, owner: str) -> Tuple[Tensor, ...]:
    """The ``num_views`` view-major chunks of ``x`` (V * B, ...); an uneven first dimension is refused.

    Args:
        x (Tensor): V views of the same batch stacked view-major along dim 0, (V * B, ...).
        num_views (int): V.
        owner (str): the caller's name, which starts the error message.

    Returns:
        tuple[Tensor, ...]: V tensors (B, ...) (views of ``x``, not copies), view 0 first.

    Raises:
        ValueError: if ``x`` is a scalar or its first dimension is not a multiple of ``num_views``.
    """
    if x.dim() < 1 or x.size(0) % num_views:
        raise ValueError(f'{owner}: the first dimension ({x.size(0) if x.dim() else "scalar"}) must stack '
                         f'{num_views} views of the same batch (view-major)')
    return x.chunk(num_views)


def _check_positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        check_positive(value, name, owner)


@MODELS.register_module()
class SupConLoss(nn.Module):
    """Supervised contrastive loss (Khosla et al., 2020) with every view as an anchor (SimGCD's ``'all'``).

    ``forward(features, labels)`` takes ``features`` (B, V, D), L2-normalised there, and ``labels`` (B,);
    the positives of an anchor are the other embeddings with its label (its other views included).

    Args:
        temperature (float): softmax temperature of the cosine similarities, positive. Defaults to 0.07.
        base_temperature (float): the loss is scaled by ``temperature / base_temperature``, positive.
            Defaults to 0.07.
        loss_weight (float): multiplier. Defaults to 1.0.

    Raises:
        ValueError: if ``temperature`` or ``base_temperature`` is not a positive finite number.
    """

    def __init__(self, temperature: float = 0.07, base_temperature: float = 0.07, loss_weight: float = 1.0) -> None:
        super().__init__()
        _check_positive('SupConLoss', temperature=temperature, base_temperature=base_temperature)
        self.temperature, self.base_temperature, self.loss_weight = temperature, base_temperature, loss_weight

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        """``features`` (B, V, D) (L2-normalised here), ``labels`` (B,); 0 (with a graph) for an empty batch."""
        if features.dim() != 3 or features.size(0) != labels.numel():
            raise ValueError(f'SupConLoss: features must be (B, V, D) with B = len(labels), got '
                             f'{tuple(features.shape)} and {labels.numel()} labels')
        if features.size(0) == 0:
            return features.sum() * 0.0
        batch, views = features.shape[:2]
        feats = F.normalize(_fp32(features), dim=-1).transpose(0, 1).reshape(batch * views, -1)
        logits = feats @ feats.T / self.temperature
        logits = logits - logits.max(dim=1, keepdim=True).values.detach()
        not_self = ~torch.eye(batch * views, dtype=torch.bool, device=feats.device)
        tiled = labels.reshape(-1).repeat(views)
        positive = (tiled[:, None] == tiled[None, :]) & not_self
        log_prob = logits - torch.logsumexp(logits.masked_fill(~not_self, float('-inf')), dim=1, keepdim=True)
        mean_log_prob_pos = (log_prob * positive).sum(1) / positive.sum(1).clamp_min(1)
        loss = -(self.temperature / self.base_temperature) * mean_log_prob_pos.mean()
        return self.loss_weight * loss


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """Unsupervised InfoNCE (SimCLR) over the views of a batch, as SimGCD's ``info_nce_logits`` + CE.

    Each of the V * B embeddings is an anchor; its target is the first other view of the same image, every
    embedding of the batch but itself is a candidate.

    ``forward(features)`` takes the embeddings (V * B, D), L2-normalised there, and returns the mean
    cross-entropy over the V * B anchors.

    Args:
        temperature (float): divides the cosine similarities (SimGCD calls it with 1.0), positive.
            Defaults to 1.0.
        num_views (int): views stacked view-major in the input, at least 2. Defaults to 2.
        loss_weight (float): multiplier. Defaults to 1.0.

    Raises:
        ValueError: if ``temperature`` is not a positive finite number or ``num_views`` < 2.
    """

    def __init__(self, temperature: float = 1.0, num_views: int = 2, loss_weight: float = 1.0) -> None:
        super().__init__()
        _check_positive('InfoNCELoss', temperature=temperature)
        if num_views < 2:
            raise ValueError(f'InfoNCELoss needs at least 2 views, got num_views={num_views}')
        self.temperature, self.num_views, self.loss_weight = temperature, num_views, loss_weight

    def forward(self, features: Tensor) -> Tensor:
        split_views(features, self.num_views, 'InfoNCELoss')
        n = features.size(0)
        batch = n // self.num_views
        feats = F.normalize(_fp32(features), dim=-1)
        eye = torch.eye(n, dtype=torch.bool, device=feats.device)
        logits = (feats @ feats.T / self.temperature).masked_fill(eye, float('-inf'))
        index = torch.arange(n, device=feats.device)
        # the first other view of the same image: view 1 for view 0's anchors, view 0 for the others
        target = torch.where(index < batch, index + batch, index % batch)
        return self.loss_weight * F.cross_entropy(logits, target)


@MODELS.register_module()
class CrossViewDistillLoss(nn.Module):
    """SimGCD's self-distillation ("clustering") loss between the views of a batch.

    Each view's student softmax(z / student_temp) is trained towards the other views' sharpened teacher
    softmax(z_t / teacher_temp) (teacher = the detached logits; the student logits themselves when no
    ``teacher_logits`` are given). The loss is the mean over view pairs (teacher view != student view) of the
    batch-mean cross-entropy H(teacher, student).

    ``teacher_temp`` is an attribute that ``TeacherTempScheduleHook`` sets every epoch (0.07 -> 0.04).

    Args:
        student_temp (float): 0.1 in SimGCD; positive. Defaults to 0.1.
        teacher_temp (float): the value until a hook changes it; positive (checked again at every forward).
            Defaults to 0.07.
        num_views (int): views stacked view-major in the input. Defaults to 2.
        loss_weight (float): multiplier. Defaults to 1.0.

    Raises:
        ValueError: if ``student_temp`` or ``teacher_temp`` is not a positive finite number, or ``num_views`` is
            not an int >= 2.
    """

    def __init__(self, student_temp: float = 0.1, teacher_temp: float = 0.07, num_views: int = 2,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        _check_positive('CrossViewDistillLoss', student_temp=student_temp, teacher_temp=teacher_temp)
        if isinstance(num_views, bool) or not isinstance(num_views, int) or num_views < 2:
            raise ValueError(f'CrossViewDistillLoss: num_views must be an int >= 2 (each view is distilled from '
                             f'the others), got {num_views!r}')
        self.student_temp, self.teacher_temp = student_temp, teacher_temp
        self.num_views, self.loss_weight = num_views, loss_weight

    def forward(self, student_logits: Tensor, teacher_logits: Optional[Tensor] = None) -> Tensor:
        """Mean over view pairs (teacher view != student view) of the batch-mean cross-entropy."""
        if teacher_logits is None:
            teacher_logits = student_logits
        _check_positive('CrossViewDistillLoss', teacher_temp=self.teacher_temp)
        students = split_views(F.log_softmax(_fp32(student_logits) / self.student_temp, dim=-1), self.num_views,
                               'CrossViewDistillLoss')
        teachers = split_views(F.softmax(_fp32(teacher_logits).detach() / self.teacher_temp, dim=-1),
                               self.num_views, 'CrossViewDistillLoss')
        terms = [cross_entropy(q, log_p).mean() for iq, q in enumerate(teachers)
                 for v, log_p in enumerate(students) if v != iq]
        return self.loss_weight * torch.stack(terms).mean()


@MODELS.register_module()
class MeanEntropyLoss(nn.Module):
    """SimGCD's mean-entropy regulariser ("me-max"): log K - H(mean_i softmax(z_i / temperature)) >= 0.

    Minimising it maximises the entropy of the batch-mean prediction, which keeps every class in use.
    ``forward(logits)`` takes the logits (N, K) of all views; the value lies in [0, log K] (before
    ``loss_weight``).

    Args:
        temperature (float): 0.1 in SimGCD; positive. Defaults to 0.1.
        loss_weight (float): SimGCD's ``memax_weight`` (1; CUB 2; CIFAR-100 4; LegoGCD's default 2).
            Defaults to 1.0.

    Raises:
        ValueError: if ``temperature`` is not a positive finite number.
    """

    def __init__(self, temperature: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__()
        _check_positive('MeanEntropyLoss', temperature=temperature)
        self.temperature, self.loss_weight = temperature, loss_weight

    def forward(self, logits: Tensor) -> Tensor:
        mean_prob = F.softmax(_fp32(logits) / self.temperature, dim=-1).mean(0)
        return self.loss_weight * (math.log(mean_prob.numel()) - entropy(mean_prob))


@MODELS.register_module()
class LocalEntropyLoss(nn.Module):
    """LegoGCD's Local Entropy Regularization (LER) on confident known-class predictions of unlabelled samples.

    A sample is selected when it is unlabelled, max softmax(z / conf_temp) >= ``thr`` and its argmax is a known
    class (index < ``num_known_classes``). Its loss is the cross-entropy of softmax(z / tau) against
    log_softmax(z / tau + margin * log q_hat), q_hat an EMA (``momentum``) of the batch-mean softmax(z) that
    starts uniform. The sum over selected samples is divided by all N samples (the official ``.mean()`` of a
    masked vector). After each training forward q_hat is updated with the current batch (mean over ranks in
    distributed runs); it is a buffer, so checkpoints keep it.

    Args:
        num_classes (int): K, known + novel.
        num_known_classes (int): the known classes are 0 .. num_known_classes - 1 (0 < it <= K).
        thr (float): confidence threshold in [0, 1] (LegoGCD: CIFAR-10 0.95, CIFAR-100 0.85, ImageNet-100 0.8,
            CUB 0.7, Cars 0.85, Aircraft 0.9, Herbarium19 0.7). Defaults to 0.7.
        tau (float): temperature of both distributions; positive. Defaults to 0.05.
        margin (float): m, the weight of log q_hat. Defaults to 0.4.
        momentum (float): EMA momentum of q_hat, in [0, 1). Defaults to 0.999.
        conf_temp (float): temperature of the confidence test; positive. Defaults to 0.1.
        detach_target (bool): stop the gradient through softmax(z / tau); the official code does not.
            Defaults to False.
        loss_weight (float): 2 in LegoGCD. Defaults to 2.0.

    Raises:
        ValueError: if ``num_known_classes``, ``thr`` or ``momentum`` is out of range, or ``tau`` or
            ``conf_temp`` is not a positive finite number.
    """

    def __init__(self, num_classes: int, num_known_classes: int, thr: float = 0.7, tau: float = 0.05,
                 margin: float = 0.4, momentum: float = 0.999, conf_temp: float = 0.1, detach_target: bool = False,
                 loss_weight: float = 2.0) -> None:
        super().__init__()
        if not 0 < num_known_classes <= num_classes:
            raise ValueError(f'LocalEntropyLoss: need 0 < num_known_classes <= num_classes, got '
                             f'{num_known_classes} and {num_classes}')
        if not 0 <= thr <= 1:
            raise ValueError(f'LocalEntropyLoss: thr must be in [0, 1], got {thr!r}')
        if not 0 <= momentum < 1:
            raise ValueError(f'LocalEntropyLoss: momentum must be in [0, 1), got {momentum!r}')
        _check_positive('LocalEntropyLoss', tau=tau, conf_temp=conf_temp)
        self.num_classes, self.num_known_classes = num_classes, num_known_classes
        self.thr, self.tau, self.margin, self.momentum, self.conf_temp = thr, tau, margin, momentum, conf_temp
        self.detach_target, self.loss_weight = detach_target, loss_weight
        self.register_buffer('qhat', torch.full((num_classes, ), 1.0 / num_classes))
        #: how many samples the last forward selected (logged by the model: a threshold that is too high
        #: selects none and the loss stays 0, LegoGCD issue 1)
        self.last_num_selected = 0

    def selection(self, logits: Tensor, unlabelled: Tensor) -> Tensor:
        """The boolean mask (N,) of the samples the loss applies to."""
        conf, idx = F.softmax(_fp32(logits).detach() / self.conf_temp, dim=-1).max(-1)
        return unlabelled.bool() & (conf >= self.thr) & (idx < self.num_known_classes)

    def forward(self, logits: Tensor, unlabelled: Tensor) -> Tensor:
        """``logits`` (N, K) of all views, ``unlabelled`` (N,) bool; a scalar."""
        if logits.dim() != 2 or logits.size(1) != self.num_classes or unlabelled.shape != logits.shape[:1]:
            raise ValueError(f'LocalEntropyLoss: logits must be (N, {self.num_classes}) and unlabelled (N,), got '
                             f'{tuple(logits.shape)} and {tuple(unlabelled.shape)}')
        z = _fp32(logits)
        selected = self.selection(z, unlabelled)
        self.last_num_selected = int(selected.sum())
        target = F.softmax(z / self.tau, dim=-1)
        if self.detach_target:
            target = target.detach()
        log_pred = F.log_softmax(z / self.tau + self.margin * self.qhat.to(z.dtype).log(), dim=-1)
        loss = (cross_entropy(target, log_pred) * selected).sum() / max(z.size(0), 1)
        if self.training:
            self.update_qhat(z.detach())
        return self.loss_weight * loss

    @torch.no_grad()
    def update_qhat(self, logits: Tensor) -> None:
        """q_hat <- momentum * q_hat + (1 - momentum) * mean softmax(logits) (averaged over ranks)."""
        mean_prob = F.softmax(_fp32(logits), dim=-1).mean(0)
        if get_world_size() > 1:
            all_reduce(mean_prob, op='mean')
        self.qhat.mul_(self.momentum).add_(mean_prob.to(self.qhat.dtype), alpha=1 - self.momentum)


#: how DualViewKLLoss computes the divergence
DUAL_VIEW_KL_MODES = ('correct', 'official')
DUAL_VIEW_KL_DIRECTIONS = ('one-way', 'symmetric')


@MODELS.register_module()
class DualViewKLLoss(nn.Module):
    """LegoGCD's dual-view KL constraint between the predictions of two views of each image.

    With p_v = softmax(z_v / temperature):

    - ``mode='correct'`` (default): KL(p_1 || p_2) = sum p_1 (log p_1 - log p_2), the paper's Eq. 11, with exact
      log-probabilities (``log_softmax`` of the logits).
    - ``mode='official'``: sum p_1 (log_softmax(p_1) - log_softmax(p_2)), what the official code computes: it
      applies ``log_softmax`` to the probabilities instead of the logits. Since p lies in [0, 1],
      log_softmax(p) differs from log p; the term is a much flatter function of the logits (a weak constraint).

    ``forward(logits)`` takes the logits (2B, K) of the two views, view-major, and returns the batch mean.

    Args:
        mode (str): ``'correct'`` or ``'official'``. Defaults to ``'correct'``.
        direction (str): ``'one-way'``: KL(view 1 || view 2) as the official code; ``'symmetric'``: the mean of
            both directions. Defaults to ``'one-way'``.
        stop_grad (bool): detach the first argument of each KL (the target distribution); the official code
            does not. Defaults to False.
        temperature (float): 0.1 (SimGCD's student temperature; the official term uses the divided logits);
            positive. Defaults to 0.1.
        num_views (int): must be 2. Defaults to 2.
        loss_weight (float): multiplier (the official term sits inside the clustering loss, so the model
            weighs it by 1 - sup_weight). Defaults to 1.0.

    Raises:
        ValueError: for an unknown ``mode`` or ``direction``, ``num_views`` other than 2, or a ``temperature``
            that is not a positive finite number.
    """

    def __init__(self, mode: str = 'correct', direction: str = 'one-way', stop_grad: bool = False,
                 temperature: float = 0.1, num_views: int = 2, loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in DUAL_VIEW_KL_MODES:
            raise ValueError(f'DualViewKLLoss: mode must be one of {DUAL_VIEW_KL_MODES}, got {mode!r}')
        if direction not in DUAL_VIEW_KL_DIRECTIONS:
            raise ValueError(f'DualViewKLLoss: direction must be one of {DUAL_VIEW_KL_DIRECTIONS}, got {direction!r}')
        if num_views != 2:
            raise ValueError(f'DualViewKLLoss compares exactly 2 views, got num_views={num_views}')
        _check_positive('DualViewKLLoss', temperature=temperature)
        self.mode, self.direction, self.stop_grad = mode, direction, stop_grad
        self.temperature, self.num_views, self.loss_weight = temperature, num_views, loss_weight

    def _kl(self, z_p: Tensor, z_q: Tensor) -> Tensor:
        if self.stop_grad:
            z_p = z_p.detach()
        p, q = F.softmax(z_p, dim=-1), F.softmax(z_q, dim=-1)
        if self.mode == 'correct':
            return categorical_kl(p, q, log_p=F.log_softmax(z_p, dim=-1), log_q=F.log_softmax(z_q, dim=-1))
        return categorical_kl(p, q, log_p=F.log_softmax(p, dim=-1), log_q=F.log_softmax(q, dim=-1))

    def forward(self, logits: Tensor) -> Tensor:
        """``logits`` (2B, K), view-major; the batch mean of the divergence."""
        z1, z2 = split_views(_fp32(logits) / self.temperature, self.num_views, 'DualViewKLLoss')
        kl = self._kl(z1, z2)
        if self.direction == 'symmetric':
            kl = 0.5 * (kl + self._kl(z2, z1))
        return self.loss_weight * kl.mean()
