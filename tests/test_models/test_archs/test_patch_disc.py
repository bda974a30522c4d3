"""PatchDiscriminator: output size and channels against the conv arithmetic, and the 70 x 70 receptive field of
pix2pix / CycleGAN (Isola et al. 2017) checked with autograd."""
import pytest
import torch
import torch.nn as nn

from visiondiv.models.archs import PatchDiscriminator


def convs(disc):
    return [m for m in disc.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize('num_conv, size', [(1, 30), (2, 14), (3, 6)])
def test_output_size_closed_form(num_conv, size):
    # 64 px: each 4x4 stride-2 pad-1 conv halves (1 + num_conv of them), the two stride-1 ones subtract 1 each
    assert size == 64 // 2 ** num_conv - 2
    disc = PatchDiscriminator(in_channels=1, base_channels=4, num_conv=num_conv)
    assert disc(torch.rand(2, 1, 64, 64)).shape == (2, 1, size, size)


@pytest.mark.parametrize('num_conv, mults', [(1, [1, 2]), (3, [1, 2, 4, 8]), (4, [1, 2, 4, 8, 8])])
def test_channels_double_up_to_8x(num_conv, mults):
    disc = PatchDiscriminator(in_channels=3, base_channels=4, num_conv=num_conv)
    layers = convs(disc)
    assert [c.out_channels for c in layers] == [4 * m for m in mults] + [1]
    assert layers[0].in_channels == 3
    assert [c.stride for c in layers] == [(2, 2)] * num_conv + [(1, 1)] * 2
    # no normalisation after the first and the last convolution (pix2pix)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in disc.modules()) == num_conv


def test_num_conv_zero_refused():
    with pytest.raises(ValueError, match='num_conv must be >= 1, got 0'):
        PatchDiscriminator(in_channels=1, num_conv=0)


def test_init_is_normal_002():
    torch.manual_seed(0)
    disc = PatchDiscriminator(in_channels=1, base_channels=64, num_conv=3)
    disc.init_weights()
    big = [c.weight for c in convs(disc) if c.weight.numel() > 100_000]
    assert big, 'expected large convolutions to estimate the std from'
    for w in big:          # N(0, 0.02) as CycleGAN; the sample std of >= 131072 draws: standard error 0.2%
        assert w.std().item() == pytest.approx(0.02, rel=0.01)


def receptive_window(layers, index):
    """The input rows [lo, hi] that output row ``index`` depends on, through (kernel, stride, padding) layers."""
    lo, hi = index, index
    for k, s, p in reversed(layers):
        lo, hi = lo * s - p, hi * s - p + k - 1
    return lo, hi


def test_receptive_field_is_70_for_num_conv_3():
    layers = [(4, 2, 1)] * 3 + [(4, 1, 1)] * 2      # 3 stride-2 and 2 stride-1 4x4 convolutions, all padding 1
    size = 1
    for k, s, _ in reversed(layers):
        size = (size - 1) * s + k
    assert size == 70                                # by hand: 1 -> 4 -> 7 -> 16 -> 34 -> 70
    i, j = 7, 5
    (top, bottom), (left, right) = receptive_window(layers, i), receptive_window(layers, j)
    assert (top, bottom, left, right) == (8 * 7 - 23, 8 * 7 - 23 + 69, 8 * 5 - 23, 8 * 5 - 23 + 69)

    torch.manual_seed(0)
    # no instance norm: its statistics would make every logit depend on every pixel
    disc = PatchDiscriminator(in_channels=1, base_channels=4, num_conv=3, norm_cfg=None).double()
    disc.init_weights()
    x = torch.rand(1, 1, 128, 128, dtype=torch.float64, requires_grad=True)
    out = disc(x)
    assert out.shape == (1, 1, 14, 14)
    out[0, 0, i, j].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    assert (rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()) == (top, bottom, left, right)
    assert bottom - top + 1 == right - left + 1 == 70
    # a pixel outside that window leaves the logit unchanged
    y = x.detach().clone()
    y[0, 0, bottom + 1, left] += 10.0
    y[0, 0, top, right + 1] += 10.0
    with torch.no_grad():
        assert disc(y)[0, 0, i, j].item() == out[0, 0, i, j].item()
        assert disc(y)[0, 0, i + 1, j].item() != out[0, 0, i + 1, j].item()    # its window does contain them
