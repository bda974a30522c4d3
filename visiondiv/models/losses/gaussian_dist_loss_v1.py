"""mmrotate's ``GDLoss_v1``: the original (pre-"stable") KLD, GWD and BCD losses of rotated boxes."""
from typing import Optional

import torch
from torch import Tensor, nn

from visiondiv.registry import MODELS
from visiondiv.structures.bbox import Gaussian2D
from .gaussian_divergence import bhattacharyya_distance, kl_divergence, wasserstein_sq
from .utils import compute_dtype, prepare_box_loss, reduce_box_loss, resolve_reduction

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
class GDLoss_v1(nn.Module):  # noqa: N801 (mmrotate's registered name)
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
        loss_type (str): kld, gwd or bcd.
        fun (str): sqrt (mmrotate's default), log1p, or '' / 'none'.
        tau (float): the loss is 1 - 1/(tau + f(D)).
        reduction (str): none, mean or sum.
        loss_weight (float): multiplier.

    Inputs are decoded boxes (n, 5); half-precision inputs are computed in
    fp32 and returned in the input dtype.
    """

    #: what the dense heads pass (:func:`~visiondiv.models.losses.utils.declared_box_input`): decoded boxes
    box_input = 'decoded'
    LOSS_TYPES = ('kld', 'gwd', 'bcd')

    def __init__(self, loss_type: str, fun: str = 'sqrt', tau: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if loss_type not in self.LOSS_TYPES:
            raise ValueError(f'loss_type must be one of {self.LOSS_TYPES}, got {loss_type!r}')
        if fun not in FUNS:
            raise ValueError(f'fun must be one of {FUNS}, got {fun!r}')
        resolve_reduction(reduction, None)
        self.loss_type, self.fun, self.tau = loss_type, fun, tau
        self.reduction, self.loss_weight = reduction, loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss between ``pred`` and ``target`` boxes (n, 5); weight (n,) or (n, 5) masks samples."""
        reduction, weight, zero = prepare_box_loss(pred, weight, self.reduction, reduction_override)
        if zero is not None:
            return zero
        dtype = compute_dtype(pred.dtype)
        keep = None if weight is None else (weight > 0).detach()
        kept_pred, kept_target = (pred, target) if keep is None else (pred[keep], target[keep])
        loss = gaussian_distance_v1(Gaussian2D.from_rbox(kept_pred.to(dtype)),
                                    Gaussian2D.from_rbox(kept_target.to(dtype)),
                                    self.loss_type, self.fun, self.tau)
        if reduction == 'none' and keep is not None:
            full = loss.new_zeros(keep.shape)
            full[keep] = loss
            loss = full
        valid = torch.ones_like(loss, dtype=torch.bool)
        return self.loss_weight * reduce_box_loss(loss, valid, None, reduction, None, pred.dtype)
