"""Source-free adaptation of a segmentation network (Bateson et al.): label-free losses on target images."""
from typing import List, Sequence

from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from visiondiv.registry import MODELS

#: layers whose scale/shift Tent updates (BatchNorm in the Tent paper; GroupNorm etc. likewise)
NORM_LAYERS = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)


@MODELS.register_module()
class SFDAEncoderDecoder(EncoderDecoder):
    """mmseg's EncoderDecoder whose training loss uses predictions only, never labels.

    Args:
        adapt_losses (Sequence[dict]): Label-free losses on the full-resolution logits (at least one; their
            ``loss_name`` s must differ), e.g.
            ``[dict(type='EntropyLoss'), dict(type='ClassRatioKLLoss', prior=[...])]`` (SFDA),
            ``[dict(type='EntropyLoss')]`` (AdaEnt).
        trainable (str): ``'all'``, or ``'norm_affine'`` to update only the normalisation layers' scale/shift
            (Tent; BatchNorm, GroupNorm, InstanceNorm or LayerNorm). Defaults to ``'all'``.
        **kwargs: mmseg ``EncoderDecoder`` arguments (backbone, decode_head, ...); a source
            checkpoint is given with ``load_from``.

    Raises:
        ValueError: If ``adapt_losses`` is empty, ``trainable`` is another value, or ``'norm_affine'`` finds no
            normalisation layer with parameters.
    """

    def __init__(self, adapt_losses: Sequence[dict], trainable: str = 'all', **kwargs) -> None:
        super().__init__(**kwargs)
        if not adapt_losses:
            raise ValueError('SFDAEncoderDecoder needs at least one loss in adapt_losses')
        self.adapt_losses = nn.ModuleList(MODELS.build(cfg) for cfg in adapt_losses)
        if trainable not in ('all', 'norm_affine'):
            raise ValueError(f"trainable must be 'all' or 'norm_affine', got {trainable!r}")
        self.trainable = trainable
        if trainable == 'norm_affine':
            norm_params = {id(p) for m in self.modules() if isinstance(m, NORM_LAYERS) for p in m.parameters()}
            if not norm_params:
                raise ValueError("trainable='norm_affine' but the network has no normalisation layer "
                                 'with affine parameters')
            for p in self.parameters():
                p.requires_grad_(id(p) in norm_params)

    def loss(self, inputs: Tensor, data_samples: List = None) -> dict:
        """Adaptation losses of a batch of (unlabelled) target images; ``data_samples`` labels are ignored."""
        logits = self.decode_head(self.extract_feat(inputs))
        logits = resize(logits, size=inputs.shape[2:], mode='bilinear', align_corners=self.align_corners)
        losses = {}
        for loss in self.adapt_losses:
            if loss.loss_name in losses:
                raise KeyError(f'two adaptation losses are both named {loss.loss_name!r}')
            losses[loss.loss_name] = loss(logits)
        return losses
