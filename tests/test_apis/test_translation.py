"""load_translator on real (tiny) CycleGAN checkpoints and its errors; translate_slices against closed forms
(value mapping, edge padding to a multiple of 4 and cropping, batches, NaN)."""
import re

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from visiondiv.apis import load_translator, translate_slices
from visiondiv.utils.checkpoint import CheckpointMismatchError
from visiondiv.models.editors.cyclegan import ResnetGenerator
from visiondiv.registry import MODELS


def cyclegan_cfg(base_channels=8):
    return dict(type='CycleGAN', domains=('ct', 'mr'),
                generator=dict(type='ResnetGenerator', in_channels=1, out_channels=1, base_channels=base_channels,
                               num_blocks=1),
                discriminator=dict(type='PatchDiscriminator', in_channels=1, base_channels=4, num_conv=2))


def save(path, model_cfg, state_dict, with_cfg=True):
    ckpt = {'state_dict': state_dict, 'meta': {}}
    if with_cfg:
        ckpt['meta']['cfg'] = Config(dict(model=model_cfg)).pretty_text
    torch.save(ckpt, str(path))
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny CycleGAN and its checkpoint as tools/train.py writes it (config text in meta.cfg)."""
    torch.manual_seed(0)
    model = MODELS.build(cyclegan_cfg())
    model.init_weights()
    path = save(tmp_path_factory.mktemp('ckpt') / 'iter_10.pth', cyclegan_cfg(), model.state_dict())
    return model.eval(), path


X = torch.rand(2, 1, 16, 12, generator=torch.Generator().manual_seed(1)) * 2 - 1


@pytest.mark.parametrize('target', ['mr', 'ct'])
def test_loads_the_generator_to_the_target_domain(trained, target):
    model, path = trained
    gen = load_translator(path, target_domain=target)
    assert isinstance(gen, ResnetGenerator) and not gen.training
    with torch.no_grad():
        out = gen(X)
        assert torch.equal(out, model.generators[target](X))
        other = 'ct' if target == 'mr' else 'mr'
        assert not torch.allclose(out, model.generators[other](X))     # the two generators do differ


def test_config_argument(trained, tmp_path):
    model, path = trained
    state = torch.load(path, weights_only=False)['state_dict']
    bare = save(tmp_path / 'bare.pth', None, state, with_cfg=False)
    with pytest.raises(ValueError, match=re.escape(f'{bare}: no config in meta.cfg') + '.*config='):
        load_translator(bare)
    cfg = Config(dict(model=cyclegan_cfg()))
    cfg_file = tmp_path / 'translator.py'
    cfg.dump(str(cfg_file))
    for config in (str(cfg_file), cfg):
        with torch.no_grad():
            assert torch.equal(load_translator(bare, config=config)(X), model.generators['mr'](X))


def test_missing_file_named(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match=re.escape(path)):
        load_translator(path)


def test_truncated_file_named(trained, tmp_path):
    data = open(trained[1], 'rb').read()
    path = tmp_path / 'cut.pth'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match=re.escape(str(path)) + ': cannot read this checkpoint'):
        load_translator(str(path))


def test_not_a_checkpoint_dict(tmp_path):
    path = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), str(path))
    with pytest.raises(CheckpointMismatchError, match=re.escape(f'{path}: not an mmengine checkpoint (a Tensor)')):
        load_translator(str(path))


def test_detector_checkpoint_names_what_it_holds(tmp_path):
    state = {'backbone.conv1.weight': torch.zeros(8, 3, 7, 7), 'backbone.layer1.0.bn1.bias': torch.zeros(8)}
    path = save(tmp_path / 'retinanet.pth', dict(type='mmdet.RetinaNet'), state)
    with pytest.raises(CheckpointMismatchError, match=re.escape(
            f"{path}: no 'generators.mr.*' weights, so not a translator to 'mr'; the file holds ['backbone']")):
        load_translator(path)


def test_unknown_domain_lists_the_generators(trained):
    with pytest.raises(CheckpointMismatchError, match=re.escape("the file holds ['discriminators', 'generators.ct', "
                                                                "'generators.mr']")):
        load_translator(trained[1], target_domain='pet')


def test_other_shapes_named(trained, tmp_path):
    """Weights of base_channels=8 generators under a config that says 16."""
    state = torch.load(trained[1], weights_only=False)['state_dict']
    path = save(tmp_path / 'wide.pth', cyclegan_cfg(base_channels=16), state)
    with pytest.raises(CheckpointMismatchError) as info:
        load_translator(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the 'generators.mr.*' weights do not fit the configured ResnetGenerator")
    # the first 7x7 convolution: (base, in, 7, 7) in the checkpoint vs the model
    assert 'model.0.conv.weight (8, 1, 7, 7) vs (16, 1, 7, 7)' in message


def test_missing_and_unexpected_keys_named(trained, tmp_path):
    state = torch.load(trained[1], weights_only=False)['state_dict']
    del state['generators.mr.model.6.conv.bias']
    state['generators.mr.model.9.conv.weight'] = torch.zeros(1)
    path = save(tmp_path / 'edited.pth', cyclegan_cfg(), state)
    with pytest.raises(CheckpointMismatchError, match=re.escape(str(path))) as info:
        load_translator(path)
    message = str(info.value)
    assert '1 missing from the checkpoint (model.6.conv.bias)' in message
    assert '1 unexpected, not in the model (model.9.conv.weight)' in message


class Affine(nn.Module):
    """``a * x + b`` with a 1x1 convolution (the generator contract: [-1, 1] in and out)."""

    def __init__(self, a, b):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        with torch.no_grad():
            self.conv.weight.fill_(a)
            self.conv.bias.fill_(b)
        self.seen = []

    def forward(self, x):
        self.seen.append((tuple(x.shape), torch.is_grad_enabled()))
        return self.conv(x)


@pytest.mark.parametrize('a, b', [(0.5, 0.1), (2.0, 0.5)])
def test_values_closed_form(a, b):
    u = np.random.default_rng(0).uniform(0, 1, (3, 8, 12))
    out = translate_slices(Affine(a, b), u.astype(np.float32))
    # [0, 1] -> [-1, 1], the generator, clamp to [-1, 1] (tanh range), back to [0, 1]
    expected = (np.clip(a * (2 * u - 1) + b, -1, 1) + 1) / 2
    assert out.dtype == np.float32 and out.shape == u.shape
    np.testing.assert_allclose(out, expected, atol=1e-6)
    if a == 2.0:
        assert (out == 0).any() and (out == 1).any()      # the clamp was exercised


class Flip(nn.Module):
    """Flips H and W: the cropped output then shows the (edge-replicated) padding."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))
        self.seen = []

    def forward(self, x):
        self.seen.append(tuple(x.shape))
        return torch.flip(x, dims=(-2, -1))


def test_padding_to_multiple_of_4_and_crop_back():
    h, w = 30, 18                                     # padded to 32 x 20 at the bottom and the right
    u = np.random.default_rng(1).uniform(0, 1, (2, h, w)).astype(np.float32)
    gen = Flip()
    out = translate_slices(gen, u)
    assert gen.seen == [(2, 1, 32, 20)] and out.shape == (2, h, w)
    rows = np.minimum(31 - np.arange(h), h - 1)       # padded row r is row min(r, h - 1) (edge values)
    cols = np.minimum(19 - np.arange(w), w - 1)
    np.testing.assert_allclose(out, u[:, rows][:, :, cols], atol=1e-6)


def test_batches_and_no_grad():
    u = np.random.default_rng(2).uniform(0, 1, (37, 8, 8)).astype(np.float32)
    gen = Affine(0.5, 0.1)
    out = translate_slices(gen, u, batch_size=16)
    assert [s for s, _ in gen.seen] == [(16, 1, 8, 8), (16, 1, 8, 8), (5, 1, 8, 8)]
    assert not any(grad for _, grad in gen.seen)
    np.testing.assert_allclose(out, (0.5 * (2 * u - 1) + 0.1 + 1) / 2, atol=1e-6)


@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_non_finite_refused(bad):
    u = np.zeros((2, 8, 8), np.float32)
    u[1, 3, 4] = bad
    with pytest.raises(ValueError, match='NaN or inf'):
        translate_slices(Affine(1, 0), u)


def test_shape_refused():
    with pytest.raises(ValueError, match=re.escape('must be (N, H, W), got shape (8, 8)')):
        translate_slices(Affine(1, 0), np.zeros((8, 8), np.float32))
