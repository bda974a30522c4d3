"""The tumour-aware term of the CT->MR translator (after Jiang et al., MICCAI 2018 / Med. Phys. 2019).

The paper adds a tumour-preserving constraint to CycleGAN; its exact form is not published. Ours has
two parts, each weighted in the config:

- ``loss_tumour_seg``: a segmentation network must find the CT tumour mask in the pseudo-MR (binary
  cross-entropy + soft Dice on its tumour logits), so the translation keeps the tumour visible and in
  place. Our configs use a trained MR segmenter (``PretrainedSegmentor``), fine-tuned with the translator
  on the pseudo-MR and on labelled real MR (:meth:`TumourAwareLoss.labelled_loss`) or frozen, so the tumour
  must look as it does in real MR; a small segmentor trained from scratch (``TumourSegmentor``) is the
  alternative;
- ``loss_tumour_cycle``: the L1 cycle error inside the tumour only (mean over tumour pixels), so the
  small tumour is not drowned by the cycle error of the whole image.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visiondiv.registry import MODELS
from .dice_loss import soft_dice_per_class


def masked_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``|pred - target|`` over the pixels where ``mask`` is 1 (all tensors (N, C, H, W)); 0 without any.

    Args:
        pred (Tensor): (N, C, H, W) images.
        target (Tensor): (N, C, H, W) images.
        mask (Tensor): 0/1 mask expandable to ``pred``'s shape, e.g. (N, 1, H, W) (then every channel of a
            masked pixel counts); its values weigh the errors.

    Returns:
        Tensor: scalar float32: sum of mask * abs(pred - target) over sum of mask (the latter clamped at 1).
    """
    mask = mask.float().expand_as(pred)
    return ((pred.float() - target.float()).abs() * mask).sum() / mask.sum().clamp(min=1.0)


def tumour_neighbourhood(mask: Tensor, margin: int) -> Tensor:
    """The pixels within ``margin`` pixels (chessboard distance) of the mask's foreground, (N, 1, H, W) bool.

    Args:
        mask (Tensor): (N, 1, H, W) tumour mask; entries > 0 are foreground.
        margin (int): the distance in pixels, >= 0 (0 gives the foreground itself).

    Returns:
        Tensor: (N, 1, H, W) bool, the foreground dilated by a (2 margin + 1) square.
    """
    return F.max_pool2d(mask.float(), 2 * margin + 1, stride=1, padding=margin) > 0


def binary_seg_loss(logits: Tensor, mask: Tensor, eps: float = 1.0, roi: Optional[Tensor] = None) -> Tensor:
    """Binary cross-entropy with logits plus ``1 - soft Dice`` of the foreground, over the batch.

    Computed in fp32; the Dice is :func:`~visiondiv.models.losses.soft_dice_per_class` of the sigmoid over the
    whole batch.

    Args:
        logits (Tensor): (N, 1, H, W) foreground logits.
        mask (Tensor): (N, 1, H, W) 0/1 target.
        eps (float): Dice smoothing (a batch with no foreground in both prediction and mask scores Dice 1).
            Defaults to 1.0.
        roi (Tensor, optional): (N, 1, H, W) bool, the only pixels scored (both terms); none scored gives 0.
            Defaults to None (every pixel scored).

    Returns:
        Tensor: scalar, the BCE (mean over the scored pixels) plus 1 - Dice.
    """
    logits, mask = logits.float(), mask.float()
    label = mask[:, 0].long()
    if roi is None:
        bce = F.binary_cross_entropy_with_logits(logits, mask)
    else:
        weight = roi.float()
        bce = (F.binary_cross_entropy_with_logits(logits, mask, reduction='none') * weight).sum() \
            / weight.sum().clamp(min=1.0)
        label = torch.where(roi[:, 0], label, torch.full_like(label, 255))
    prob = torch.sigmoid(logits)
    probs = torch.cat([1 - prob, prob], dim=1)
    dice = soft_dice_per_class(probs, label, ignore_index=255, eps=eps)[1]
    return bce + (1 - dice)


@MODELS.register_module()
class TumourAwareLoss(nn.Module):
    """Tumour-preserving losses of a CT->MR translator, computed in fp32.

    Args:
        seg_weight (float): weight of ``loss_tumour_seg`` (BCE + soft Dice of the segmentor on the pseudo-MR),
            >= 0. Defaults to 1.0.
        cycle_weight (float): weight of ``loss_tumour_cycle`` (L1 of the reconstructed CT inside the tumour),
            >= 0. Defaults to 10.0.
        eps (float): Dice smoothing. Defaults to 1.0.
        roi_margin (int, optional): score ``loss_tumour_seg`` only within this many pixels of the CT tumour
            (slices without a tumour are not scored). None scores every pixel: then the segmentor's false
            positives elsewhere (tumour-like healthy tissue) are trained out of the pseudo-MR too.
            Defaults to None.

    Raises:
        ValueError: if a weight is negative (or NaN) or ``roi_margin`` is neither None nor an int >= 0.
    """

    def __init__(self, seg_weight: float = 1.0, cycle_weight: float = 10.0, eps: float = 1.0,
                 roi_margin: Optional[int] = None) -> None:
        super().__init__()
        for name, value in (('seg_weight', seg_weight), ('cycle_weight', cycle_weight)):
            if not value >= 0:
                raise ValueError(f'TumourAwareLoss: {name} must be >= 0, got {value}')
        if roi_margin is not None and (isinstance(roi_margin, bool) or not isinstance(roi_margin, int)
                                       or roi_margin < 0):
            raise ValueError(f'TumourAwareLoss: roi_margin must be None or an int >= 0 (pixels), got {roi_margin!r}')
        self.seg_weight, self.cycle_weight, self.eps = float(seg_weight), float(cycle_weight), float(eps)
        self.roi_margin = roi_margin

    def forward(self, seg_logits: Tensor, mask: Tensor, rec: Tensor, real: Tensor) -> Dict[str, Tensor]:
        """The two weighted terms.

        Args:
            seg_logits (Tensor): (N, 1, H, W) the segmentor's tumour logits on the pseudo-MR.
            mask (Tensor): (N, 1, H, W) the CT tumour mask (0/1).
            rec (Tensor): (N, C, H, W) the CT reconstructed from the pseudo-MR.
            real (Tensor): (N, C, H, W) the CT.

        Returns:
            dict[str, Tensor]: ``loss_tumour_seg`` and ``loss_tumour_cycle``, each a weighted scalar.
        """
        roi = None if self.roi_margin is None else tumour_neighbourhood(mask, self.roi_margin)
        return dict(loss_tumour_seg=self.seg_weight * binary_seg_loss(seg_logits, mask, self.eps, roi),
                    loss_tumour_cycle=self.cycle_weight * masked_l1(rec, real, mask))

    def labelled_loss(self, seg_logits: Tensor, mask: Tensor) -> Tensor:
        """``seg_weight`` x (BCE + soft Dice) of a trainable segmentor on labelled *real* target-domain images
        (every pixel scored): it trains the segmentor only, as the images do not come from the generator."""
        return self.seg_weight * binary_seg_loss(seg_logits, mask, self.eps)
