"""tools/model_converters/dino2visiondiv.py: DINO files (released and training format) -> CLSTokenVisionTransformer."""
import argparse
import importlib.util
import os.path as osp
import re

import mmseg
import pytest
import torch

from tests.dino_fixtures import TINY, DinoViT
from tests.script_loader import load_script
from visiondiv.utils.checkpoint import CheckpointMismatchError
from visiondiv.models.backbones import CLSTokenVisionTransformer

TINY_ARGS = ['--model-args', 'img_size=32', 'patch_size=8', 'embed_dims=32', 'num_layers=2', 'num_heads=2']


def load():
    return load_script('tools', 'model_converters', 'dino2visiondiv.py')


def pretrained(path, **kwargs):
    model = CLSTokenVisionTransformer(**{**TINY, 'grad_from_block': None, **kwargs},
                                      init_cfg=dict(type='Pretrained', checkpoint=str(path))).double()
    model.init_weights()
    return model.eval()


def test_released_format_round_trip(tmp_path, capsys):
    ref = DinoViT(**TINY, seed=5)
    src, dst = tmp_path / 'dino_tiny_pretrain.pth', tmp_path / 'out' / 'tiny.pth'
    torch.save(ref.state_dict(), src)
    load().main([str(src), str(dst)] + TINY_ARGS)
    converted = torch.load(dst, map_location='cpu', weights_only=True)  # a plain state dict of tensors
    assert set(converted) == set(CLSTokenVisionTransformer(**TINY, grad_from_block=None).state_dict())
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(pretrained(dst)(x), ref(x), atol=1e-10, rtol=0)
    assert f'{dst}: {len(converted)} tensors' in capsys.readouterr().out
    assert [p.name for p in dst.parent.iterdir()] == ['tiny.pth']  # atomic write left no temporary file


def test_training_checkpoint_teacher_and_student(tmp_path):
    teacher, student = DinoViT(**TINY, seed=6), DinoViT(**TINY, seed=7)
    head = {'head.mlp.0.weight': torch.randn(4, 32), 'head.last_layer.weight_v': torch.randn(9, 4)}
    ckpt = {'teacher': {**{f'backbone.{k}': v for k, v in teacher.state_dict().items()}, **head},
            'student': {**{f'module.backbone.{k}': v for k, v in student.state_dict().items()},
                        **{f'module.{k}': v for k, v in head.items()}},
            'optimizer': {'state': {}}, 'epoch': 100, 'args': argparse.Namespace(arch='vit_tiny'), 'dino_loss': {}}
    src = tmp_path / 'checkpoint.pth'
    torch.save(ckpt, src)
    tool = load()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    tool.main([str(src), str(tmp_path / 't.pth')] + TINY_ARGS)
    torch.testing.assert_close(pretrained(tmp_path / 't.pth')(x), teacher(x), atol=1e-10, rtol=0)
    tool.main([str(src), str(tmp_path / 's.pth'), '--key', 'student'] + TINY_ARGS)
    torch.testing.assert_close(pretrained(tmp_path / 's.pth')(x), student(x), atol=1e-10, rtol=0)
    assert (pretrained(tmp_path / 's.pth')(x) - teacher(x)).abs().max() > 0.1

    del ckpt['student']
    torch.save(ckpt, src)
    with pytest.raises(KeyError, match=re.escape(str(src)) + ".*without 'student'"):
        tool.main([str(src), str(tmp_path / 'x.pth'), '--key', 'student'] + TINY_ARGS)
    ckpt['teacher']['backbone_extra.weight'] = torch.zeros(1)
    torch.save(ckpt, src)
    with pytest.raises(KeyError, match=re.escape(str(src)) + ".*'backbone_extra.weight'"):
        tool.main([str(src), str(tmp_path / 'x.pth')] + TINY_ARGS)


def test_key_table_matches_mmseg_vit2mmseg():
    tool = load()
    dino = DinoViT(**TINY).state_dict()
    converted = tool.convert_dino(dino)
    # mmseg's own converter (shipped in the wheel) gives the same names for a timm/DINO ViT
    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'model_converters', 'vit2mmseg.py')
    if not osp.isfile(script):
        pytest.skip(f'mmseg wheel without {script}')
    spec = importlib.util.spec_from_file_location('vit2mmseg', script)
    vit2mmseg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vit2mmseg)
    assert list(converted) == list(vit2mmseg.convert_vit(dino))
    assert {'ln1.weight', 'patch_embed.projection.bias', 'layers.1.attn.attn.in_proj_weight',
            'layers.0.attn.attn.out_proj.bias', 'layers.1.ffn.layers.0.0.weight', 'layers.1.ffn.layers.1.bias',
            'layers.0.ln2.bias'} <= converted.keys()
    for new, old in zip(converted, dino):
        assert converted[new] is dino[old]
        assert tool.dino_key(new) == old


def test_refusals(tmp_path):
    tool = load()
    dst = tmp_path / 'out.pth'

    def convert(state, *extra):
        src = tmp_path / 'src.pth'
        torch.save(state, src)
        tool.main([str(src), str(dst)] + list(extra or TINY_ARGS))
        return src

    missing = tmp_path / 'none' / 'dino.pth'
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        tool.main([str(missing), str(dst)])
    with pytest.raises(TypeError, match=r'src\.pth: not a state dict'):
        convert([torch.zeros(1)])
    with pytest.raises(TypeError, match=r"src\.pth: not a state dict of tensors \('pos_embed' is a str\)"):
        convert({'cls_token': torch.zeros(1, 1, 32), 'pos_embed': 'x'})
    state = DinoViT(**TINY).state_dict()
    with pytest.raises(KeyError, match=r"src\.pth: unexpected key 'blocks.0.attn.relative_bias'"):
        convert({**state, 'blocks.0.attn.relative_bias': torch.zeros(3)})
    with pytest.raises(KeyError, match=r"src\.pth: unexpected key 'head.weight'"):  # only a training file's head
        convert({**state, 'head.weight': torch.zeros(3, 32)})
    partial = {k: v for k, v in state.items() if k != 'blocks.1.mlp.fc2.bias'}
    missing_msg = r'src\.pth: .*1 missing: layers\.1\.ffn\.layers\.1\.bias \(DINO blocks\.1\.mlp\.fc2\.bias\)'
    with pytest.raises(CheckpointMismatchError, match=missing_msg):
        convert(partial)
    deeper = DinoViT(**{**TINY, 'num_layers': 3}).state_dict()
    with pytest.raises(CheckpointMismatchError, match=r'src\.pth: .*unexpected: layers\.2\.ln1\.weight'):
        convert(deeper)
    # a ViT-S-like file (other width) for a ViT-B-like target; and any tiny file for the default ViT-B/16
    small = DinoViT(**{**TINY, 'embed_dims': 16}).state_dict()
    with pytest.raises(CheckpointMismatchError, match=r'src\.pth: .*another shape: cls_token \(1, 1, 16\) '
                                                      r'\(expected \(1, 1, 32\)\)'):
        convert(small)
    with pytest.raises(CheckpointMismatchError, match=r'wrong --arch'):
        convert(state, '--arch', 'vit-small-p16')
    assert not dst.exists()  # nothing written by a refused conversion


def test_position_embedding_of_another_image_size(tmp_path):
    tool = load()
    state = DinoViT(**TINY).state_dict()                         # 4 x 4 grid + CLS
    reference = CLSTokenVisionTransformer(**{**TINY, 'img_size': 48, 'grad_from_block': None}).state_dict()
    assert tool.convert_dino(state, reference=reference)['pos_embed'].shape == (1, 17, 32)  # resized at load
    odd = {**state, 'pos_embed': torch.zeros(1, 13, 32)}           # 12 tokens: no square grid to resize
    with pytest.raises(CheckpointMismatchError, match=r'ckpt\.pth: .*pos_embed \(1, 13, 32\)'):
        tool.convert_dino(odd, reference=reference, source='ckpt.pth')
