"""FRM and AlignConv: shapes, gradients, and the sampled values on hand-built boxes (integer sample points,
where bilinear sampling is an exact pick), in fp32 and under CPU autocast."""
import math

import pytest
import torch

from visiondiv.models.layers import FRM, AlignConv, DCNAlignModule, PseudoAlignModule
from visiondiv.registry import MODELS

STRIDES = (8, 16)


def feats(channels=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, channels, 16 // (s // 8), 12 // (s // 8), generator=g, requires_grad=True)
            for s in STRIDES]


def level_sizes():
    return [(16, 12), (8, 6)]


def random_rois(seed=1):
    g = torch.Generator().manual_seed(seed)
    rois = []
    for _ in range(2):
        img = []
        for (h, w), s in zip(level_sizes(), STRIDES):
            box = torch.rand(h * w, 5, generator=g) * torch.tensor([w * s, h * s, 40.0, 20.0, math.pi]) + \
                torch.tensor([0.0, 0.0, 4.0, 4.0, -math.pi / 2])
            img.append(box)
        rois.append(img)
    return rois


def grid_rois(fn):
    """rois whose box at location (i, j) of each level is ``fn(i, j, stride)`` (cx, cy, w, h, angle)."""
    rois = []
    for _ in range(2):
        rois.append([torch.tensor([fn(i, j, s) for i in range(h) for j in range(w)], dtype=torch.float32)
                     for (h, w), s in zip(level_sizes(), STRIDES)])
    return rois


def identity_(conv):
    """conv weight := identity on its centre tap, bias := 0."""
    with torch.no_grad():
        conv.weight.zero_()
        k_h, k_w = conv.weight.shape[-2:]
        conv.weight[:, :, k_h // 2, k_w // 2] = torch.eye(conv.weight.size(0))
        if conv.bias is not None:
            conv.bias.zero_()


def test_frm_shapes_gradient_and_mmrotate_names():
    frm = MODELS.build(dict(type='FRM', feat_channels=4, strides=list(STRIDES)))
    frm.init_weights()
    assert {n for n, _ in frm.named_parameters()} == {f'{c}.{p}' for c in ('conv_5_1', 'conv_1_5', 'conv_1_1')
                                                       for p in ('weight', 'bias')}
    assert frm.conv_5_1.weight.shape == (4, 4, 5, 1) and frm.conv_1_5.weight.shape == (4, 4, 1, 5)
    x = feats()
    out = frm(x, random_rois())
    assert [o.shape for o in out] == [t.shape for t in x]
    sum((o ** 2).sum() for o in out).backward()
    for t in x:
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    for p in frm.parameters():
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_frm_zero_convolutions_leave_the_features():
    frm = FRM(4, STRIDES)
    for p in frm.parameters():
        torch.nn.init.zeros_(p)
    x = feats()
    for o, t in zip(frm(x, random_rois()), x):
        torch.testing.assert_close(o, t)


def test_frm_samples_each_location_at_its_box():
    """conv_1_1 = identity, the 1x5/5x1 branch zero: refined = x; mmcv's op adds the bilinear sample of the
    refined map at the box (points=1: its centre) to it, and FRM adds x: out = 2 x + x[sample].
    The op reads a box as (y, x, ...) in feature units times 1/stride (mmcv's kernel reads column 0 as y);
    mmrotate passes (cx, cy, ...) unchanged, so location (i, j) with box centre (cx, cy) = s (a, b) samples
    x[a, b] at row cx / s, column cy / s. Here each box points at the location one row down, two columns
    left (clamped)."""
    frm = FRM(4, STRIDES)
    for p in frm.parameters():
        torch.nn.init.zeros_(p)
    identity_(frm.conv_1_1)
    sizes = level_sizes()

    def target(i, j, s):
        h, w = sizes[STRIDES.index(s)]
        row, col = min(i + 1, h - 1), max(j - 2, 0)
        return [row * s, col * s, 30.0, 10.0, 0.4]   # column 0 = row (mmcv's y), column 1 = column (x)

    x = feats()
    out = frm(x, grid_rois(target))
    for o, t, (h, w) in zip(out, x, sizes):
        rows = torch.clamp(torch.arange(h) + 1, max=h - 1)
        cols = torch.clamp(torch.arange(w) - 2, min=0)
        expected = 2 * t + t[:, :, rows][:, :, :, cols]
        torch.testing.assert_close(o, expected)


def align_conv():
    conv = MODELS.build(dict(type='AlignConv', feat_channels=4, kernel_size=3, strides=list(STRIDES)))
    conv.init_weights()
    return conv


def test_align_conv_shapes_gradient_and_mmrotate_names():
    conv = align_conv()
    assert [n for n, _ in conv.named_parameters()] == ['deform_conv.weight']      # mmcv DeformConv2d: no bias
    assert conv.deform_conv.weight.shape == (4, 4, 3, 3)
    x = feats()
    out = conv(x, random_rois())
    assert [o.shape for o in out] == [t.shape for t in x]
    assert all(bool((o >= 0).all()) for o in out)                                  # ReLU
    sum((o ** 2).sum() for o in out).backward()                                    # mmcv's CPU backward
    for t in x:
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    assert torch.isfinite(conv.deform_conv.weight.grad).all() and conv.deform_conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('tap,angle,shift', [
    ((1, 1), 0.7, (0, 0)),            # the centre tap samples the box centre, whatever the angle
    ((0, 0), 0.0, (-2, -1)),          # top-left tap, no rotation: (dy, dx) = (-h/(3s), -w/(3s)) = (-2, -1)
    ((0, 0), math.pi / 2, (-1, 2)),   # rotated by 90 deg: (x, y) = (-1, -2) -> (2, -1)
    ((2, 1), math.pi, (-2, 0)),       # bottom-middle tap, 180 deg: (0, 2) -> (0, -2)
])
def test_align_conv_samples_the_box_grid(tap, angle, shift):
    """Only tap ``tap`` of the kernel is an identity: the output at a location is ReLU of the input at that
    tap's point of the box, i.e. the box centre plus R(angle) (dx_k w / 3, dy_k h / 3) in feature units.
    Boxes are centred on their own location with w = 3 s, h = 6 s (one and two feature pixels per tap), so
    the point is the location shifted by ``shift`` = (rows, cols)."""
    conv = align_conv()
    with torch.no_grad():
        conv.deform_conv.weight.zero_()
        conv.deform_conv.weight[:, :, tap[0], tap[1]] = torch.eye(4)
    x = [t.detach() for t in feats()]
    out = conv(x, grid_rois(lambda i, j, s: [j * s, i * s, 3.0 * s, 6.0 * s, angle]))
    for o, t in zip(out, x):
        h, w = t.shape[-2:]
        dr, dc = shift
        inner = o[:, :, max(0, -dr):h - max(0, dr), max(0, -dc):w - max(0, dc)]
        source = t[:, :, max(0, dr):h + min(0, dr), max(0, dc):w + min(0, dc)]
        torch.testing.assert_close(inner, source.clamp(min=0), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('name', ['FRM', 'AlignConv'])
def test_under_cpu_autocast(name, dtype):
    """The mmcv ops (fp32-only CPU kernels) run in fp32 with autocast off; results stay finite and close."""
    module = MODELS.build(dict(type=name, feat_channels=4, strides=list(STRIDES),
                               **(dict(kernel_size=3) if name == 'AlignConv' else {})))
    module.init_weights()
    x, rois = feats(), random_rois()
    reference = module(x, rois)
    with torch.autocast('cpu', dtype=dtype):
        out = module(x, rois)
    for o, r in zip(out, reference):
        assert torch.isfinite(o).all()
        torch.testing.assert_close(o.float(), r, atol=0.05, rtol=0.05)
    sum(o.float().sum() for o in out).backward()
    assert all(torch.isfinite(t.grad).all() for t in x)


def test_pseudo_and_dcn_align_modules():
    x = feats()
    assert PseudoAlignModule()(x, None) is x
    dcn = DCNAlignModule(4, 4, kernel_size=3, padding=1)
    assert [o.shape for o in dcn(x, None)] == [t.shape for t in x]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='kernel_size must be odd'):
        AlignConv(4, 2, STRIDES)
    with pytest.raises(ValueError, match='2 strides but got 1 feature levels'):
        FRM(4, STRIDES)(feats()[:1], [r[:1] for r in random_rois()])


@pytest.mark.parametrize('size', [(7, 5), (1, 1), (12, 12)])
def test_fixed_offset_deform_conv_equals_mmcv_deform_conv(size):
    """AlignConv's CPU path against mmcv's DeformConv2d kernel: same outputs and input/weight gradients,
    offsets up to 4 px either way (taps beyond the border included)."""
    from mmcv.ops import DeformConv2d

    from visiondiv.models.layers.align import fixed_offset_deform_conv
    torch.manual_seed(0)
    h, w = size
    x = torch.randn(2, 6, h, w, requires_grad=True)
    offset = (torch.rand(2, 18, h, w) - 0.5) * 8
    conv = DeformConv2d(6, 4, 3, padding=1)
    ref = conv(x, offset)
    ref_grads = torch.autograd.grad(ref.square().sum(), [x, conv.weight])
    out = fixed_offset_deform_conv(x, offset, conv.weight, 3)
    grads = torch.autograd.grad(out.square().sum(), [x, conv.weight])
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, atol=1e-4, rtol=1e-4)


def test_align_conv_with_deform_groups_goes_through_mmcv():
    conv = MODELS.build(dict(type='AlignConv', feat_channels=4, kernel_size=3, strides=list(STRIDES),
                             deform_groups=2))
    conv.init_weights()
    one = align_conv()
    one.load_state_dict(conv.state_dict())
    x, rois = feats(), random_rois()
    # each group samples the same box grid, so two groups give what one does (mmcv kernel vs the CPU path)
    for a, b in zip(conv(x, rois), one(x, rois)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
