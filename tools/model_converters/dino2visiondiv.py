"""Convert an official DINO ViT checkpoint into the weights of visiondiv's ``CLSTokenVisionTransformer``.

Reads either the released backbone file (``dino_vitbase16_pretrain.pth``: a plain state dict with ``cls_token``,
``pos_embed``, ``patch_embed.proj.*``, ``blocks.N.*``, ``norm.*``) or a DINO training checkpoint
(``checkpoint.pth``: ``teacher``/``student`` dicts with ``backbone.``/``module.backbone.`` keys; the teacher
by default, as DINO releases it; the DINO projection head ``head.*`` is dropped), renames the keys to mmseg's
ViT (the mapping of mmseg's ``vit2mmseg.py``; DINO's fused ``attn.qkv`` is in q, k, v order, as
``nn.MultiheadAttention.in_proj_weight``), checks every tensor against the target architecture and writes
a plain state dict atomically::

    python tools/model_converters/dino2visiondiv.py dino_vitbase16_pretrain.pth checkpoints/dino_vitb16_visiondiv.pth
    python tools/model_converters/dino2visiondiv.py checkpoint.pth out.pth --key student --arch vit-small-p16

Then ``backbone=dict(type='CLSTokenVisionTransformer', init_cfg=dict(type='Pretrained', checkpoint='out.pth'))``.
A position embedding made for another image size is kept: the backbone resizes it when loading.

DINO's training checkpoints hold pickled Python objects: convert only files you trust.
"""
import argparse
import math
import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence

import torch
from mmengine.config import DictAction

from visiondiv.utils.checkpoint import CheckpointMismatchError, load_from_local, match_state_dict
from visiondiv.engine.fileio import torch_save_atomically
from visiondiv.models.backbones.vit_cls import CLSTokenVisionTransformer

#: DINO's released ViTs as CLSTokenVisionTransformer arguments (the defaults are ViT-B/16)
DINO_ARCHS: Dict[str, dict] = {
    'vit-small-p16': dict(embed_dims=384, num_heads=6),
    'vit-small-p8': dict(embed_dims=384, num_heads=6, patch_size=8),
    'vit-base-p16': dict(),
    'vit-base-p8': dict(patch_size=8),
}

# (DINO key, mmseg key) templates; {i}: block index, {p}: weight or bias. One table for both directions.
_KEY_TABLE = (
    ('cls_token', 'cls_token'),
    ('pos_embed', 'pos_embed'),
    ('patch_embed.proj.{p}', 'patch_embed.projection.{p}'),
    ('blocks.{i}.norm1.{p}', 'layers.{i}.ln1.{p}'),
    ('blocks.{i}.attn.qkv.{p}', 'layers.{i}.attn.attn.in_proj_{p}'),
    ('blocks.{i}.attn.proj.{p}', 'layers.{i}.attn.attn.out_proj.{p}'),
    ('blocks.{i}.norm2.{p}', 'layers.{i}.ln2.{p}'),
    ('blocks.{i}.mlp.fc1.{p}', 'layers.{i}.ffn.layers.0.0.{p}'),
    ('blocks.{i}.mlp.fc2.{p}', 'layers.{i}.ffn.layers.1.{p}'),
    ('norm.{p}', 'ln1.{p}'),
)


def _pattern(template: str) -> 're.Pattern':
    return re.compile(re.escape(template).replace(r'\{i\}', r'(?P<i>\d+)').replace(r'\{p\}', r'(?P<p>weight|bias)')
                      + '$')


_TO_MMSEG = [(_pattern(dino), ours) for dino, ours in _KEY_TABLE]
_TO_DINO = [(_pattern(ours), dino) for dino, ours in _KEY_TABLE]


def _rename(key: str, rules) -> Optional[str]:
    for pattern, template in rules:
        m = pattern.match(key)
        if m:
            return template.format(**m.groupdict())
    return None


def dino_key(mmseg_key: str) -> str:
    """The DINO name of a ``CLSTokenVisionTransformer`` key (the key itself when it has none)."""
    return _rename(mmseg_key, _TO_DINO) or mmseg_key


def _check_fits(converted: Mapping[str, torch.Tensor], reference: Mapping[str, torch.Tensor], source: str) -> None:
    """Every reference tensor present with its shape, nothing else; pos_embed may have another token count."""
    shapes = {k: torch.empty(v.shape, device='meta') for k, v in reference.items()}
    pos = converted.get('pos_embed')
    if pos is not None and 'pos_embed' in shapes and pos.ndim == 3 and pos.shape[-1] == shapes['pos_embed'].shape[-1]:
        grid = math.isqrt(pos.shape[1] - 1) if pos.shape[1] >= 2 else 0
        if grid * grid == pos.shape[1] - 1:  # the backbone resizes a square grid to its image size when loading
            shapes['pos_embed'] = torch.empty(pos.shape, device='meta')
    match = match_state_dict(shapes, converted)
    if match.missing or match.unexpected or match.mismatched:
        def named(keys):
            return ', '.join(f'{k} (DINO {dino_key(k)})' for k in keys[:5]) + (', ...' if len(keys) > 5 else '')
        parts = []
        if match.missing:
            parts.append(f'{len(match.missing)} missing: {named(match.missing)}')
        if match.unexpected:
            parts.append(f'{len(match.unexpected)} unexpected: {named(match.unexpected)}')
        if match.mismatched:
            shown = [f'{dino_key(k)} {tuple(c)} (expected {tuple(m)})' for k, c, m in match.mismatched[:5]]
            parts.append(f'{len(match.mismatched)} with another shape: {", ".join(shown)}'
                         + (', ...' if len(match.mismatched) > 5 else ''))
        raise CheckpointMismatchError(f'{source}: does not fit the target ViT (wrong --arch?): {"; ".join(parts)}')


def convert_dino(state_dict: Mapping[str, torch.Tensor], reference: Optional[Mapping[str, torch.Tensor]] = None,
                 source: str = 'state dict') -> 'OrderedDict[str, torch.Tensor]':
    """Rename a DINO ViT backbone state dict to ``CLSTokenVisionTransformer``'s (mmseg's ViT) keys.

    Args:
        state_dict: DINO backbone weights (prefixes such as ``backbone.`` already stripped).
        reference: a target model's ``state_dict()``; when given, every one of its tensors must be converted
            with the same shape (``pos_embed`` may have another square token grid) and nothing else.
        source: the file, for the messages.

    Raises:
        KeyError: a key that is not part of a DINO ViT backbone (named with ``source``).
        visiondiv.utils.checkpoint.CheckpointMismatchError: the result does not fit ``reference``.
    """
    converted = OrderedDict()
    for key, value in state_dict.items():
        new_key = _rename(key, _TO_MMSEG)
        if new_key is None:
            raise KeyError(f'{source}: unexpected key {key!r}: not part of a DINO ViT backbone')
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'{source}: {key!r} is a {type(value).__name__}, not a tensor')
        converted[new_key] = value
    if reference is not None:
        _check_fits(converted, reference, source)
    return converted


def extract_backbone(checkpoint: object, source: str, key: str = 'teacher') -> Dict[str, torch.Tensor]:
    """The DINO backbone state dict of a loaded file: a plain state dict, or ``checkpoint[key]`` of a training one.

    Raises:
        TypeError: not a state dict (named with ``source``).
        KeyError: a training checkpoint without ``key``, or a non-backbone key in it.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'{source}: not a state dict but a {type(checkpoint).__name__}')
    if 'teacher' in checkpoint or 'student' in checkpoint:
        if key not in checkpoint:
            raise KeyError(f'{source}: DINO training checkpoint without {key!r} '
                       f'(it has: {", ".join(map(str, checkpoint))})')
        weights = checkpoint[key]
        if not isinstance(weights, Mapping):
            raise TypeError(f'{source}: {key!r} is not a state dict but a {type(weights).__name__}')
        backbone = {}
        for name, value in weights.items():
            bare = name[len('module.'):] if name.startswith('module.') else name
            if bare.startswith('backbone.'):
                backbone[bare[len('backbone.'):]] = value
            elif not bare.startswith('head.'):  # head.*: DINO's projection head, not used
                raise KeyError(f'{source}: unexpected key {name!r} in {key!r} (neither backbone. nor head.)')
        if not backbone:
            raise KeyError(f'{source}: {key!r} holds no backbone.* keys')
        return backbone
    bad = [k for k, v in checkpoint.items() if not isinstance(v, torch.Tensor)]
    if not checkpoint or bad:
        raise TypeError(f'{source}: not a state dict of tensors'
                        + (f' ({bad[0]!r} is a {type(checkpoint[bad[0]]).__name__})' if bad else ' (empty)'))
    return dict(checkpoint)


def convert_file(src: str, dst: str, key: str = 'teacher', arch: str = 'vit-base-p16',
                 model_args: Optional[dict] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Convert the DINO file ``src`` for ``CLSTokenVisionTransformer(**DINO_ARCHS[arch], **model_args)``.

    ``dst`` (a plain state dict) is written atomically. Returns the converted state dict.
    """
    if arch not in DINO_ARCHS:
        raise ValueError(f'unknown --arch {arch!r}; one of {", ".join(DINO_ARCHS)}')
    # grad_from_block=None: the freezing does not change the tensors, and 11 would not fit a smaller ViT
    reference = CLSTokenVisionTransformer(**{**DINO_ARCHS[arch], 'grad_from_block': None, **(model_args or {})})
    reference = reference.state_dict()
    converted = convert_dino(extract_backbone(load_from_local(src, map_location='cpu'), src, key), reference, src)
    torch_save_atomically(converted, dst)
    return converted


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert a DINO ViT checkpoint for CLSTokenVisionTransformer')
    parser.add_argument('src', help='DINO checkpoint (dino_vitbase16_pretrain.pth or a training checkpoint.pth)')
    parser.add_argument('dst', help='output file (a plain state dict)')
    parser.add_argument('--key', default='teacher', choices=('teacher', 'student'),
                        help='which network of a training checkpoint (default: teacher, as DINO releases)')
    parser.add_argument('--arch', default='vit-base-p16', choices=tuple(DINO_ARCHS),
                        help='the ViT the file must fit (default: vit-base-p16)')
    parser.add_argument('--model-args', nargs='+', action=DictAction, default={},
                        help='more CLSTokenVisionTransformer arguments, e.g. embed_dims=32 num_layers=2')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    converted = convert_file(args.src, args.dst, args.key, args.arch, args.model_args)
    print(f'{args.src} -> {args.dst}: {len(converted)} tensors, '
          f'{sum(v.numel() for v in converted.values()):,} parameters')


if __name__ == '__main__':
    main()
