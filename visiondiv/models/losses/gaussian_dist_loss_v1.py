"""mmrotate's ``GDLoss_v1``: the original (pre-"stable") KLD, GWD and BCD losses of rotated boxes."""
from typing import Optional

import torch
from torch import Tensor

from visiondiv.divergences.gaussian import bhattacharyya_distance, kl_divergence, wasserstein_sq
from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D
from .base_box_loss import BaseBoxLoss

#: the divergence is clamped to at least this before ``fun`` (mmrotate)
MIN_DISTANCE = 1e-6
#: mmrotate spells "no function" as ''; visiondiv's GDLoss as 'none': both are accepted
FUNS = ('sqrt', 'log1p', '', 'none')


def gaussian_distance_v1(pred: Gaussian2D, target: Gaussian2D, loss_type: str, fun: str = 'sqrt',
                         tau: float = 1.0) -> Tensor:
    """Per-pair loss of mmrotate's ``GDLoss_v1`` (before ``loss_weight``).

    The distance D, clamped to >= 1e-6, is

    - ``kld``: 2 KL(N_pred || N_target);
    - ``gwd``: the squared 2-Wasserstein distance;
    - ``bcd``: the Bhattacharyya distance;

    and the loss is 1 - 1/(tau + f(D)) with f = sqrt or log1p, whatever tau is.
    Without ``fun`` ('' or 'none') mmrotate's per-type fallbacks apply: ``kld``
    uses log1p, ``bcd`` 1 - 1/(tau + D), and ``gwd`` log1p(sqrt(D) / (2 (|Sp||St|)^(1/8)))
    (no tau).

    Args:
        pred (Gaussian2D): Gaussians of the predicted boxes (batch shape ...).
        target (Gaussian2D): Gaussians of the target boxes, broadcastable with ``pred``.
        loss_type (str): ``kld``, ``gwd`` or ``bcd``.
        fun (str): ``'sqrt'``, ``'log1p'``, or ``''``/``'none'`` for the per-type fallbacks (not checked
            here: any other value acts as ``''``). Defaults to ``'sqrt'``.
        tau (float): the offset in 1 - 1/(tau + f(D)). Defaults to 1.0.

    Returns:
        Tensor: the loss of each pair, shape (...).

    Raises:
        ValueError: for an unknown ``loss_type``.
    """
    if loss_type == 'kld':
        distance = 2 * kl_divergence(pred, target)
    elif loss_type == 'gwd':
        distance = wasserstein_sq(pred, target)
    elif loss_type == 'bcd':
        distance = bhattacharyya_distance(pred, target)
    else:
        raise ValueError(f'loss_type must be one of {GDLoss_v1.LOSS_TYPES}, got {loss_type!r}')
    distance = distance.clamp_min(MIN_DISTANCE)
    if fun == 'sqrt':
        return 1 - 1 / (tau + distance.sqrt())
    if fun == 'log1p' or loss_type == 'kld':
        return 1 - 1 / (tau + torch.log1p(distance))
    if loss_type == 'bcd':
        return 1 - 1 / (tau + distance)
    scale = 2 * (pred.sqrt_det() * target.sqrt_det()).sqrt().sqrt().clamp_min(1e-7)
    return torch.log1p(distance.sqrt() / scale)


@MODELS.register_module()
class GDLoss_v1(BaseBoxLoss):  # noqa: N801 (mmrotate's registered name)
    """mmrotate's first Gaussian-distribution loss (KLD, GWD, BCD), as its non-"stable" configs use it.

    The per-sample loss is ``loss_weight *`` :func:`gaussian_distance_v1`.
    As in mmrotate, samples whose weight is <= 0 are dropped before anything
    is computed, the weight is otherwise only that mask (its values do not
    scale the loss), and there is no degenerate-target masking and no
    ``alpha``. mmrotate returns the kept samples' losses unreduced and lets
    mmengine's ``parse_losses`` average them; here ``reduction='mean'``
    gives that average directly (so ``avg_factor`` is ignored, as it is in
    mmrotate), 'sum' their sum, and 'none' an (n,) tensor with 0 for the
    dropped samples.

    Args:
        loss_type (str): kld, gwd or bcd (required, as in mmrotate).
        fun (str): sqrt (mmrotate's default), log1p, or '' / 'none'. Defaults to ``'sqrt'``.
        tau (float): the loss is 1 - 1/(tau + f(D)) (not for ``gwd`` without ``fun``, see
            :func:`gaussian_distance_v1`). Defaults to 1.0.
        reduction (str): none, mean or sum. Defaults to ``'mean'``.
        loss_weight (float): multiplier. Defaults to 1.0.

    Inputs are decoded boxes (n, 5); half-precision inputs are computed in
    fp32 and returned in the input dtype.

    Raises:
        ValueError: for an unknown ``loss_type``, ``fun`` or ``reduction``.
    """

    box_input = 'decoded'
    degenerate_target = None
    weight_as_mask = True
    LOSS_TYPES = ('kld', 'gwd', 'bcd')

    def __init__(self, loss_type: str, fun: str = 'sqrt', tau: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        if loss_type not in self.LOSS_TYPES:
            raise ValueError(f'loss_type must be one of {self.LOSS_TYPES}, got {loss_type!r}')
        if fun not in FUNS:
            raise ValueError(f'fun must be one of {FUNS}, got {fun!r}')
        super().__init__(reduction=reduction, loss_weight=loss_weight)
        self.loss_type, self.fun, self.tau = loss_type, fun, tau

    def loss_per_box(self, pred: Tensor, target: Tensor, pred_decode: Optional[Tensor] = None,
                     targets_decode: Optional[Tensor] = None) -> Tensor:
        """:func:`gaussian_distance_v1` of each (kept) box pair."""
        return gaussian_distance_v1(Gaussian2D.from_rbox(pred), Gaussian2D.from_rbox(target), self.loss_type, self.fun,
                                    self.tau)
