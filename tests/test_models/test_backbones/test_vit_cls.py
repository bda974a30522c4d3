"""CLSTokenVisionTransformer: parity with an independent DINO ViT, SimGCD's freezing, pretrained loading."""
import re

import pytest
import torch
import torch.nn.functional as F

from tests.dino_fixtures import TINY, DinoViT
from tests.script_loader import load_script
from visiondiv.utils.checkpoint import CheckpointMismatchError
from visiondiv.models.backbones import CLSTokenVisionTransformer
from visiondiv.registry import MODELS

BLOCK_PARAMS = ('ln1.weight', 'ln1.bias', 'attn.attn.in_proj_weight', 'attn.attn.in_proj_bias',
                'attn.attn.out_proj.weight', 'attn.attn.out_proj.bias', 'ln2.weight', 'ln2.bias',
                'ffn.layers.0.0.weight', 'ffn.layers.0.0.bias', 'ffn.layers.1.weight', 'ffn.layers.1.bias')


def convert_dino(state_dict, **kwargs):
    return load_script('tools', 'model_converters', 'dino2visiondiv.py').convert_dino(state_dict, **kwargs)


def vit(**kwargs):
    """The tiny ViT, all trainable unless told (the default grad_from_block=11 needs 12 blocks)."""
    return CLSTokenVisionTransformer(**{**TINY, 'grad_from_block': None, **kwargs})


def trainable(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_parity_with_dino_vit_float64():
    ref = DinoViT(**TINY, seed=1)
    model = vit().double()
    model.load_state_dict(convert_dino(ref.state_dict()), strict=True)
    model.eval()
    x = torch.randn(3, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = model(x)
    expected = ref(x)
    assert out.shape == (3, 32)
    assert expected.abs().max() > 0.1  # not a degenerate comparison
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=0)
    # train mode changes nothing: no dropout in DINO's settings
    torch.testing.assert_close(model.train()(x), expected, atol=1e-10, rtol=0)


def test_pretrained_init_cfg_loads_converted_file(tmp_path):
    ref = DinoViT(**TINY, seed=3)
    path = tmp_path / 'dino_tiny.pth'
    torch.save(convert_dino(ref.state_dict()), path)
    model = MODELS.build(dict(type='CLSTokenVisionTransformer', **TINY, grad_from_block=None,
                              init_cfg=dict(type='Pretrained', checkpoint=str(path)))).double()
    model.init_weights()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(model(x), ref(x), atol=1e-10, rtol=0)


def test_pretrained_resizes_pos_embed_to_another_image_size(tmp_path):
    ref = DinoViT(**TINY, seed=4)
    path = tmp_path / 'dino_tiny.pth'
    torch.save(convert_dino(ref.state_dict()), path)
    model = vit(img_size=48, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.double().init_weights()
    pos = ref.pos_embed.detach()                              # (1, 1 + 4 * 4, 32)
    grid = pos[:, 1:].reshape(1, 4, 4, 32).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(6, 6), mode='bicubic', align_corners=False).flatten(2).transpose(1, 2)
    torch.testing.assert_close(model.pos_embed.detach(), torch.cat([pos[:, :1], grid], dim=1), atol=1e-12, rtol=0)
    torch.testing.assert_close(model.layers[1].ln2.weight.detach(), ref.blocks[1].norm2.weight.detach())
    assert model(torch.randn(2, 3, 48, 48, dtype=torch.float64)).shape == (2, 32)


def test_pretrained_refusals(tmp_path):
    missing = tmp_path / 'nope' / 'dino.pth'
    model = vit(init_cfg=dict(type='Pretrained', checkpoint=str(missing)))
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        model.init_weights()
    # an unconverted DINO file would load nothing in mmseg (strict=False) and train from random weights
    raw = tmp_path / 'raw_dino.pth'
    torch.save(DinoViT(**TINY).state_dict(), raw)
    model = vit(init_cfg=dict(type='Pretrained', checkpoint=str(raw)))
    with pytest.raises(CheckpointMismatchError, match=re.escape(str(raw)) + '.*missing from the checkpoint'):
        model.init_weights()
    # another width (a ViT-S file into a ViT-B config)
    small = tmp_path / 'small.pth'
    torch.save(convert_dino(DinoViT(**{**TINY, 'embed_dims': 16}).state_dict()), small)
    model = vit(init_cfg=dict(type='Pretrained', checkpoint=str(small)))
    with pytest.raises(CheckpointMismatchError, match=re.escape(str(small)) + r'.*another shape.*cls_token'):
        model.init_weights()


def test_grad_from_block_freezes_as_simgcd():
    model = vit(grad_from_block=1)
    expected = {f'layers.1.{p}' for p in BLOCK_PARAMS}
    assert trainable(model) == expected
    model.init_weights()
    model.train()
    assert trainable(model) == expected
    model.eval().train()
    assert trainable(model) == expected
    model(torch.randn(2, 3, 32, 32)).square().sum().backward()
    for name, p in model.named_parameters():
        if name in expected:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name
    # the frozen stem and final norm of SimGCD: patch embedding, CLS token, position embedding, ln1
    assert trainable(vit(grad_from_block=0)) == {
        f'layers.{i}.{p}' for i in (0, 1) for p in BLOCK_PARAMS}
    assert trainable(vit(grad_from_block=2)) == set()
    free = vit(grad_from_block=None)
    assert trainable(free) == {n for n, _ in free.named_parameters()}
    assert {'cls_token', 'pos_embed', 'patch_embed.projection.weight', 'ln1.weight'} <= trainable(free)


def test_frozen_state_survives_pretrained_loading(tmp_path):
    path = tmp_path / 'dino_tiny.pth'
    torch.save(convert_dino(DinoViT(**TINY).state_dict()), path)
    model = vit(grad_from_block=1, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.requires_grad_(True)  # whatever happened in between, init_weights re-applies the rule
    model.init_weights()
    assert trainable(model) == {f'layers.1.{p}' for p in BLOCK_PARAMS}


def test_defaults_are_dino_vit_b16():
    model = CLSTokenVisionTransformer(grad_from_block=None)
    # ViT-B/16 without a head, closed form: patch conv, CLS, 197 positions, 12 blocks, final norm
    d, hidden = 768, 3072
    block = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)
    assert sum(p.numel() for p in model.parameters()) == (3 * 16 * 16 * d + d) + d + 197 * d + 12 * block + 2 * d
    assert sum(p.numel() for p in model.parameters()) == 85_798_656   # timm/DINO vit_base_patch16, no head
    assert model.patch_embed.projection.bias is not None
    assert model.ln1.eps == 1e-6 and model.layers[0].ln1.eps == 1e-6
    assert model.layers[0].attn.attn.num_heads == 12
    assert model.out_channels == 768
    assert trainable(CLSTokenVisionTransformer()) == {f'layers.11.{p}' for p in BLOCK_PARAMS}


def test_small_grey_config():
    model = MODELS.build(dict(type='CLSTokenVisionTransformer', img_size=28, patch_size=4, embed_dims=64,
                              num_layers=4, num_heads=4, in_channels=1, grad_from_block=3))
    model.init_weights()
    out = model(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 64) and torch.isfinite(out).all()
    # final LayerNorm (weight 1, bias 0 after init): each feature vector has mean 0 and variance 1 - eps/(var+eps)
    torch.testing.assert_close(out.mean(1), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(1, unbiased=False), torch.ones(5), atol=1e-3, rtol=0)


def test_argument_refusals():
    with pytest.raises(TypeError, match='out_indices'):
        vit(out_indices=0)
    with pytest.raises(TypeError, match='frozen_exclude'):
        vit(frozen_exclude=['layers'])
    with pytest.raises(ValueError, match='default 11 is for the 12 blocks'):
        CLSTokenVisionTransformer(**TINY)
    for bad in (-1, 3, 1.5):
        with pytest.raises(ValueError, match='grad_from_block'):
            vit(grad_from_block=bad)
