"""The DINO ViT of SimGCD/LegoGCD as a backbone: mmseg's ViT returning the final-normed CLS token."""
from typing import Optional, Tuple, Union

from mmseg.models.backbones import VisionTransformer
from torch import Tensor

from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import CheckpointMismatchError, match_state_dict

# set here because forward() needs them; a config cannot change them
_FIXED = ('out_indices', 'with_cls_token', 'output_cls_token', 'out_origin', 'frozen_exclude')


@MODELS.register_module()
class CLSTokenVisionTransformer(VisionTransformer):
    """mmseg's :class:`~mmseg.models.backbones.VisionTransformer` with DINO's settings, returning (B, D) features.

    The defaults are DINO's ViT-B/16 (``dino_vitb16``, the backbone of SimGCD and LegoGCD): 224 px,
    16 px patches with a biased projection, 768 channels, 12 pre-norm blocks of 12 heads, LayerNorm
    eps 1e-6 and a final norm. ``forward`` returns what DINO's ``forward`` does: the CLS token of the
    last block after the final norm.

    Only the blocks ``layers.i`` with ``i >= grad_from_block`` are trained, as SimGCD's train.py does
    (``--grad_from_block 11``: the last block of ViT-B); the patch embedding, CLS token, position
    embedding and final norm stay frozen. ``grad_from_block=None`` leaves every parameter trainable.
    The freezing is applied at construction and again after :meth:`init_weights`.

    Pretrained weights: ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with a file written by
    ``tools/model_converters/dino2visiondiv.py`` (mmseg's key names). mmseg's loading path is used
    (the position embedding is resized bicubically to another ``img_size``), but the file must fit
    every tensor of the backbone: mmseg alone would only log the keys it could not use and go on with
    random weights (an unconverted DINO file loads nothing).

    Args:
        img_size (int or tuple[int, int]): Input size (int or (H, W)) the position embedding is made for; a
            list from a config is taken as a tuple. Defaults to 224.
        patch_size (int): Patch side in pixels. Defaults to 16.
        in_channels (int): Image channels. Defaults to 3.
        embed_dims (int): Token width D, the output width. Defaults to 768.
        num_layers (int): Number of transformer blocks. Defaults to 12.
        num_heads (int): Number of attention heads. Defaults to 12.
        mlp_ratio (int): MLP hidden width / D. Defaults to 4.
        qkv_bias (bool): Bias in the qkv projection (DINO: True). Defaults to True.
        patch_bias (bool): Bias in the patch projection (DINO: True; mmseg's default is False). Defaults to True.
        drop_rate (float): Dropout rate (DINO's hub models: 0). Defaults to 0.
        attn_drop_rate (float): Attention dropout rate (DINO's hub models: 0). Defaults to 0.
        drop_path_rate (float): Stochastic depth rate (DINO's hub models: 0). Defaults to 0.
        norm_cfg (dict, optional): Norm of the blocks and the final norm (DINO: LayerNorm, eps 1e-6); None
            means ``dict(type='LN', eps=1e-6)``. Defaults to None.
        final_norm (bool): Apply the final norm (DINO: True). Defaults to True.
        grad_from_block (int, optional): First trainable block, an int in [0, ``num_layers``]; None trains
            everything. Defaults to 11 (the last block of ViT-B).
        init_cfg (dict or list[dict], optional): mmengine init config (``Pretrained`` as above). Defaults to None.
        **kwargs: Other arguments of mmseg's VisionTransformer (``interpolate_mode``, ``with_cp``...),
            except those that decide the output (``out_indices``, ``with_cls_token``, ``output_cls_token``,
            ``out_origin``) and ``frozen_exclude`` (use ``grad_from_block``).

    Raises:
        TypeError: If ``kwargs`` sets ``out_indices``, ``with_cls_token``, ``output_cls_token``,
            ``out_origin`` or ``frozen_exclude``.
        ValueError: If ``grad_from_block`` is neither None nor an int in [0, ``num_layers``].

    Attributes:
        out_channels (int): the feature width D.
    """

    def __init__(self,
                 img_size: Union[int, Tuple[int, int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 768,
                 num_layers: int = 12,
                 num_heads: int = 12,
                 mlp_ratio: int = 4,
                 qkv_bias: bool = True,
                 patch_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 final_norm: bool = True,
                 grad_from_block: Optional[int] = 11,
                 init_cfg: Optional[Union[dict, list]] = None,
                 **kwargs) -> None:
        fixed = sorted(set(kwargs) & set(_FIXED))
        if fixed:
            raise TypeError(f'CLSTokenVisionTransformer: {", ".join(fixed)} cannot be set (the output is always the '
                            'CLS token of the last block; freeze with grad_from_block)')
        valid = isinstance(grad_from_block, int) and 0 <= grad_from_block <= num_layers
        if grad_from_block is not None and not valid:
            raise ValueError(f'CLSTokenVisionTransformer: grad_from_block must be None or an int in [0, num_layers='
                             f'{num_layers}], got {grad_from_block!r} (the default 11 is for the 12 blocks of ViT-B; '
                             'None trains every block)')
        if isinstance(img_size, list):
            img_size = tuple(img_size)  # configs give lists; mmseg accepts int or tuple
        super().__init__(
            img_size=img_size, patch_size=patch_size, in_channels=in_channels, embed_dims=embed_dims,
            num_layers=num_layers, num_heads=num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
            patch_bias=patch_bias, drop_rate=drop_rate, attn_drop_rate=attn_drop_rate, drop_path_rate=drop_path_rate,
            norm_cfg=dict(type='LN', eps=1e-6) if norm_cfg is None else norm_cfg, final_norm=final_norm,
            out_indices=num_layers - 1, with_cls_token=True, output_cls_token=True, init_cfg=init_cfg, **kwargs)
        self.out_channels = embed_dims
        self.grad_from_block = grad_from_block
        self._freeze_blocks()

    def _freeze_blocks(self) -> None:
        """SimGCD's rule: only parameters of blocks with index >= grad_from_block get gradients."""
        if self.grad_from_block is None:
            return
        for name, param in self.named_parameters():
            parts = name.split('.')
            param.requires_grad = parts[0] == 'layers' and int(parts[1]) >= self.grad_from_block

    def init_weights(self) -> None:
        """mmseg's initialisation or pretrained loading, refusing a file that does not fit; then the freezing."""
        pretrained = isinstance(self.init_cfg, dict) and self.init_cfg.get('type') in ('Pretrained', 'Pretrained_Part')
        handle = None
        if pretrained:
            handle = self.register_load_state_dict_pre_hook(self._check_pretrained)
        try:
            super().init_weights()
        finally:
            if handle is not None:
                handle.remove()
        self._freeze_blocks()

    def _check_pretrained(self, module, state_dict, prefix, *args) -> None:
        """load_state_dict pre-hook: the (pos_embed-resized) file must fit every tensor, by name and shape."""
        own = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        match = match_state_dict(self.state_dict(), own)
        if match.missing or match.unexpected or match.mismatched:
            raise CheckpointMismatchError(
                f'{self.init_cfg["checkpoint"]}: does not fit CLSTokenVisionTransformer: {match.summary()}. '
                'Convert an official DINO checkpoint with tools/model_converters/dino2visiondiv.py for this '
                'architecture')

    def train(self, mode: bool = True) -> 'CLSTokenVisionTransformer':
        """mmseg's ``train`` (``norm_eval``), returning ``self`` as ``nn.Module.train`` does (mmseg's returns None)."""
        super().train(mode)
        return self

    def forward(self, inputs: Tensor) -> Tensor:
        """(B, C, H, W) images -> (B, D) CLS token of the last block after the final norm."""
        return super().forward(inputs)[-1][1]
