"""Segmentation networks for the tumour-aware term: a trained target-domain segmenter, frozen or fine-tuned
(``PretrainedSegmentor``, used by our configs), or a small net trained from scratch (``TumourSegmentor``)."""
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModule
from torch import Tensor

from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import load_checkpoint_checked


@MODELS.register_module()
class TumourSegmentor(BaseModule):
    """Foreground logits (N, num_classes, H, W) from the backbone feature map ``in_index`` at full resolution.

    A 1x1 convolution turns the chosen feature map into the logits; ``forward`` raises a ValueError when that
    map is not at the input's height and width.

    Args:
        backbone (dict): Config of a backbone returning a list/tuple of feature maps (``mmseg.UNet``) or one map.
        in_channels (int): Channels of the chosen feature map.
        in_index (int): Which feature map (UNet: -1, the last decoder stage, at the input resolution); unused
            when the backbone returns one map. Defaults to -1.
        num_classes (int): Output channels (1: binary tumour logits). Defaults to 1.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self, backbone: dict, in_channels: int, in_index: int = -1, num_classes: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.in_index = in_index
        self.head = nn.Conv2d(in_channels, num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        feats = self.backbone(x)
        if isinstance(feats, (list, tuple)):
            feats = feats[self.in_index]
        if feats.shape[-2:] != x.shape[-2:]:
            raise ValueError(f'TumourSegmentor: feature map {self.in_index} has size {tuple(feats.shape[-2:])}, '
                             f'the input {tuple(x.shape[-2:])}; choose in_index of a full-resolution map')
        return self.head(feats)


@MODELS.register_module()
class PretrainedSegmentor(nn.Module):
    """A trained segmentation model of the target domain: the tumour-aware term's judge (as CyCADA's
    semantic-consistency loss uses a fixed classifier), frozen or fine-tuned with the translator.

    The pseudo-MR must be segmented by a network that learnt what tumours look like in *real* MR, so the
    translator has to render the CT tumour as MR shows one, where the CT has it. A segmentor trained from
    scratch on the pseudo-MR alone can read any code the generator hides in the image (it did on the toy
    set: the pseudo-MR turned to high-frequency noise, see configs/crossmodal/README.md).

    ``frozen=False`` fine-tunes it with the generators (the translator's ``segmentor`` optimizer) on the
    pseudo-MR with the CT labels and, through ``CycleGAN(labelled_domain=...)``, on the labelled real MR:
    the semi-supervised tumour-aware setting of Jiang et al. (MICCAI 2018). A frozen judge's own errors are
    trained into the pseudo-MR (the translator is pushed to hide whatever the judge mistakes for a tumour);
    a fine-tuned one learns from the pseudo-MR instead. configs/crossmodal/README.md compares the two.

    Args:
        config (str): Path of the segmentation config (an mmseg ``EncoderDecoder``, e.g. the MR-only UNet
            config).
        checkpoint (str): Path of its trained weights, a local file (every tensor must match the config's model).
        foreground (int): The tumour's class index among the model's output channels. Defaults to 1.
        input_range (tuple[float, float]): The value range (lo, hi) the segmenter was trained on; the
            translator's [-1, 1] output is mapped linearly onto it ((0, 1): per-volume percentile-normalised
            MR), then normalised as the model's data preprocessor does when it normalises. Defaults to
            ``(0.0, 1.0)``.
        frozen (bool): Keep the weights fixed (True) or train them with the translator (False).
            Defaults to True.

    Raises:
        TypeError: If ``frozen`` is not a bool.
        FileNotFoundError: If ``config`` or ``checkpoint`` is not a file.
        CheckpointMismatchError: If the checkpoint does not fit every tensor of the config's model.

    The model stays in eval mode either way: normalisation statistics and dropout do not follow the
    translator's batches (the study's UNet has GroupNorm and no dropout, so nothing is lost).

    Forward: (N, 1, H, W) foreground logits, log p(tumour) - log p(not tumour), at the input size.
    """

    def __init__(self, config: str, checkpoint: str, foreground: int = 1,
                 input_range: Tuple[float, float] = (0.0, 1.0), frozen: bool = True) -> None:
        super().__init__()
        if not isinstance(frozen, bool):
            raise TypeError(f'{type(self).__name__}: frozen must be True or False, got {frozen!r}')
        if not osp.isfile(config):
            raise FileNotFoundError(f'{type(self).__name__}: config not found: {config}')
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{type(self).__name__}: checkpoint not found: {checkpoint} (train the segmenter '
                                    f'of {config} first)')
        self.model = MODELS.build(Config.fromfile(config).model)
        load_checkpoint_checked(self.model, checkpoint, map_location='cpu', complete=True)
        self.model.requires_grad_(not frozen)
        self.model.eval()
        self.foreground, self.input_range = int(foreground), tuple(float(v) for v in input_range)

    def train(self, mode: bool = True) -> 'PretrainedSegmentor':
        """Stays in eval mode: the judge's normalisation and dropout must not change with the translator's."""
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        lo, hi = self.input_range
        x = lo + (x.float() + 1) / 2 * (hi - lo)
        prep = self.model.data_preprocessor
        if getattr(prep, '_enable_normalize', False):
            x = (x - prep.mean) / prep.std
        logits = self.model(x, None, mode='tensor')
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=False)
        fg = logits[:, self.foreground:self.foreground + 1]
        others = torch.cat([logits[:, :self.foreground], logits[:, self.foreground + 1:]], dim=1)
        return fg - torch.logsumexp(others, dim=1, keepdim=True)


@MODELS.register_module()
class FrozenSegmentor(PretrainedSegmentor):  # kept: translator checkpoints carry configs (meta.cfg) that name it
    """``PretrainedSegmentor(frozen=True)``, under the name that translator configs written before the
    fine-tuned judge use.

    Args:
        config (str): Path of the segmentation config, as :class:`PretrainedSegmentor`.
        checkpoint (str): Path of its trained weights, as :class:`PretrainedSegmentor`.
        foreground (int): The tumour's class index. Defaults to 1.
        input_range (tuple[float, float]): The value range the segmenter was trained on, as
            :class:`PretrainedSegmentor`. Defaults to ``(0.0, 1.0)``.
    """

    def __init__(self, config: str, checkpoint: str, foreground: int = 1,
                 input_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__(config, checkpoint, foreground, input_range, frozen=True)
