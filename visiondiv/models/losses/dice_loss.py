"""Per-class soft Dice loss for semantic segmentation (medical-imaging convention).

mmseg 1.2.2's ``DiceLoss`` pools all classes of an image into one Dice (and
uses a sigmoid by default), so the background dominates it and a small
structure gets almost no gradient. Here each class gets its own soft Dice over
the batch, from the softmax, and the loss is one minus their mean.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visiondiv.registry import MODELS
from .utils import compute_dtype


def soft_dice_per_class(probs: Tensor, label: Tensor, ignore_index: int = 255, eps: float = 1.0) -> Tensor:
    """Soft Dice (2|P.G| + eps) / (|P| + |G| + eps) of every class over the whole batch.

    Args:
        probs (Tensor): (N, C, H, W) class probabilities.
        label (Tensor): (N, H, W) integer labels; ``ignore_index`` pixels are left out.
        ignore_index (int): label value whose pixels count neither in P nor in G. Defaults to 255.
        eps (float): smoothing; a class absent from both prediction and label scores 1. Defaults to 1.0.

    Returns:
        Tensor: (C,) Dice per class.
    """
    num_classes = probs.size(1)
    valid = label != ignore_index
    onehot = F.one_hot(torch.where(valid, label, 0).long(), num_classes).permute(0, 3, 1, 2).to(probs.dtype)
    mask = valid.unsqueeze(1).to(probs.dtype)
    probs, onehot = probs * mask, onehot * mask
    inter = (probs * onehot).sum((0, 2, 3))
    return (2 * inter + eps) / (probs.sum((0, 2, 3)) + onehot.sum((0, 2, 3)) + eps)


@MODELS.register_module()
class MultiClassDiceLoss(nn.Module):
    """1 - mean over classes of the batch soft Dice of the softmax (mmseg loss interface).

    The softmax of ``cls_score`` (N, C, H, W) is taken over dim 1, in fp32 for half-precision input, and
    the Dice of each class is :func:`soft_dice_per_class`; the loss is returned in ``cls_score``'s dtype.

    Args:
        include_background (bool): also average class 0. Defaults to False.
        class_weight (Sequence[float], optional): weights of the per-class Dice terms, one per class
            including class 0 (C entries; class 0's is unused without the background); the loss is then
            1 - sum_c w_c Dice_c / sum_c w_c. Defaults to None (plain mean).
        eps (float): smoothing of each Dice. Defaults to 1.0.
        loss_weight (float): multiplier. Defaults to 1.0.
        ignore_index (int): label value left out (``forward``'s ``ignore_index`` overrides it).
            Defaults to 255.
        loss_name (str): key in the loss dict. Defaults to ``'loss_dice'``.

    Raises:
        ValueError: (in ``forward``) one class channel without the background, or a ``class_weight`` of
            another length than the classes.
    """

    def __init__(self, include_background: bool = False, class_weight: Optional[Sequence[float]] = None,
                 eps: float = 1.0, loss_weight: float = 1.0, ignore_index: int = 255,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.include_background, self.eps, self.ignore_index = include_background, eps, ignore_index
        self.class_weight = None if class_weight is None else [float(w) for w in class_weight]
        self.loss_weight, self._loss_name = loss_weight, loss_name

    def forward(self, cls_score: Tensor, label: Tensor, weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None, **kwargs) -> Tensor:
        if label.dim() == 4:
            label = label.squeeze(1)
        ignore = self.ignore_index if ignore_index is None else ignore_index
        probs = cls_score.to(compute_dtype(cls_score.dtype)).softmax(1)
        dice = soft_dice_per_class(probs, label, ignore, self.eps)
        start = 0 if self.include_background else 1
        if dice.numel() <= start:  # the mean of no class would be NaN
            raise ValueError(f'MultiClassDiceLoss: cls_score has {dice.numel()} class channel and '
                             'include_background=False leaves no class to average; set include_background=True '
                             'or give the background a channel')
        dice = dice[start:]
        if self.class_weight is not None:
            if len(self.class_weight) != cls_score.size(1):
                raise ValueError(f'class_weight has {len(self.class_weight)} entries for '
                                 f'{cls_score.size(1)} classes')
            w = dice.new_tensor(self.class_weight[start:])
            loss = 1 - (w * dice).sum() / w.sum().clamp_min(1e-12)
        else:
            loss = 1 - dice.mean()
        return (self.loss_weight * loss).to(cls_score.dtype)

    @property
    def loss_name(self) -> str:
        return self._loss_name
