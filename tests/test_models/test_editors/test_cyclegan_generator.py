"""ResnetGenerator: sizes, the tanh range, dropout and residual blocks as configured, and closed forms of the
residual blocks (a block whose last convolution is zero is the identity)."""
import pytest
import torch
import torch.nn as nn

from visiondiv.models.editors.cyclegan import ResnetGenerator
from visiondiv.models.editors.cyclegan.cyclegan_generator import ResidualBlockWithDropout


def gen(**kw):
    cfg = dict(in_channels=1, out_channels=1, base_channels=4, num_blocks=2)
    cfg.update(kw)
    torch.manual_seed(0)
    model = ResnetGenerator(**cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('h, w', [(16, 16), (12, 20), (8, 12)])
def test_size_preserved_for_multiples_of_4(h, w):
    model = gen(in_channels=2, out_channels=3)
    assert model(torch.rand(2, 2, h, w)).shape == (2, 3, h, w)


def test_output_is_tanh_bounded():
    model = gen()
    last = model.model[-1].conv
    with torch.no_grad():      # a large last layer: without the tanh the output would go far beyond [-1, 1]
        last.weight.mul_(1e4)
    y = model(torch.randn(2, 1, 16, 16))
    assert y.abs().max().item() <= 1.0
    assert y.abs().max().item() > 0.999
    assert isinstance(model.model[-1].activate, nn.Tanh)


@pytest.mark.parametrize('use_dropout, expected', [(False, 0), (True, 3)])
def test_dropout_only_when_asked(use_dropout, expected):
    model = gen(num_blocks=3, use_dropout=use_dropout)
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == expected and all(d.p == 0.5 for d in drops)
    x = torch.rand(1, 1, 16, 16)
    model.train()
    # dropout makes two training-mode passes differ; without it they are the same
    assert torch.equal(model(x), model(x)) is (not use_dropout)
    model.eval()
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize('num_blocks', [0, 1, 4])
def test_num_blocks(num_blocks):
    model = gen(num_blocks=num_blocks)
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlockWithDropout)]
    assert len(blocks) == num_blocks
    # 7x7 conv, 2 downsamplings, the blocks, 2 upsamplings, 7x7 conv
    assert len(model.model) == 6 + num_blocks
    assert all(b.block[0].conv.in_channels == 16 for b in blocks)         # 4 x base_channels


def test_negative_num_blocks_refused():
    with pytest.raises(ValueError, match='num_blocks must be >= 0, got -1'):
        gen(num_blocks=-1)


def zero_last_conv(block):
    conv = block.block[-1].conv
    nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def test_block_with_zero_last_conv_is_identity():
    torch.manual_seed(0)
    block = ResidualBlockWithDropout(6, 'reflect', dict(type='IN'), use_dropout=True).eval()
    x = torch.randn(2, 6, 8, 8)
    assert not torch.allclose(block(x), x)          # a random block is not the identity...
    zero_last_conv(block)
    assert torch.equal(block(x), x)                  # ...x + 0 once the residual branch ends in a zero conv


def test_generator_with_zeroed_blocks_equals_one_without_blocks():
    """The residual blocks sit between the encoder and the decoder: zeroed, the generator is the 0-block one."""
    deep, shallow = gen(num_blocks=2), gen(num_blocks=0)
    for block in deep.model[3:5]:
        zero_last_conv(block)
    # the encoder (layers 0-2) and decoder (the last 3 layers) of the deep generator, into the shallow one
    state = {}
    for i_deep, i_shallow in [(0, 0), (1, 1), (2, 2), (5, 3), (6, 4), (7, 5)]:
        for k, v in deep.model[i_deep].state_dict().items():
            state[f'model.{i_shallow}.{k}'] = v
    shallow.load_state_dict(state)
    x = torch.rand(2, 1, 12, 16)
    assert torch.equal(deep.eval()(x), shallow.eval()(x))


def test_init_is_normal_002():
    model = gen(base_channels=32, num_blocks=1)
    w = model.model[3].block[0].conv.weight           # 128 x 128 x 3 x 3 = 147456 draws: standard error 0.2%
    assert w.std().item() == pytest.approx(0.02, rel=0.01)
