"""ORConv2d and RotationInvariantPooling: mmrotate's parameter/buffer names and shapes, the rotated filters
(a 3x3 filter turned by 90 degrees is its rot90), gradients, autocast, and the orientation max."""
import pytest
import torch

from visiondiv.models.layers import ORConv2d, RotationInvariantPooling


def test_names_shapes_and_indices():
    conv = ORConv2d(6, 2, kernel_size=3, padding=1, arf_config=(1, 8))
    assert dict((n, tuple(t.shape)) for n, t in conv.state_dict().items()) == {
        'weight': (2, 6, 1, 3, 3), 'bias': (16,), 'indices': (1, 3, 3, 8)}
    assert conv.indices.dtype == torch.int32
    # rotation 0 takes every tap from itself (1-based); 180 degrees reverses the taps
    assert conv.indices[0, :, :, 0].flatten().tolist() == list(range(1, 10))
    assert conv.indices[0, :, :, 4].flatten().tolist() == list(range(9, 0, -1))
    assert conv.rotate_arf().shape == (16, 6, 3, 3)


def test_rotated_filters_are_the_turned_kernel():
    """With one orientation, rotation k of filter o is output channel o * 8 + k; rotations 2, 4, 6 (90, 180,
    270 degrees) are exact quarter turns of the 3x3 kernel (the 45-degree ones shift the ring by one tap)."""
    torch.manual_seed(0)
    conv = ORConv2d(3, 2, kernel_size=3, arf_config=(1, 8))
    filters = conv.rotate_arf().detach().reshape(2, 8, 3, 3, 3)
    w = conv.weight.detach()[:, :, 0]                                     # (out, in, 3, 3)
    torch.testing.assert_close(filters[:, 0], w)
    for k, quarter_turns in ((2, 1), (4, 2), (6, 3)):
        turned = torch.rot90(w, quarter_turns, dims=(-2, -1))
        ok = torch.allclose(filters[:, k], turned) or torch.allclose(filters[:, k], torch.rot90(w, -quarter_turns,
                                                                                                  dims=(-2, -1)))
        assert ok, k
    # 45 degrees: the ring of 8 outer taps moves by one place, the centre stays
    ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    outer = torch.stack([w[..., r, c] for r, c in ring], -1)
    outer_45 = torch.stack([filters[:, 1][..., r, c] for r, c in ring], -1)
    assert any(torch.allclose(outer_45, outer.roll(s, -1)) for s in (1, -1))
    torch.testing.assert_close(filters[:, 1][..., 1, 1], w[..., 1, 1])


def test_forward_gradient_and_autocast():
    torch.manual_seed(0)
    conv = ORConv2d(4, 2, kernel_size=3, padding=1, arf_config=(1, 8))
    x = torch.randn(2, 4, 6, 5, requires_grad=True)
    y = conv(x)
    expected = torch.nn.functional.conv2d(x, conv.rotate_arf(), conv.bias, padding=1)
    torch.testing.assert_close(y, expected)
    assert y.shape == (2, 16, 6, 5)
    y.square().sum().backward()                                           # active_rotated_filter's CPU backward
    assert torch.isfinite(conv.weight.grad).all() and conv.weight.grad.abs().sum() > 0
    for dtype in (torch.float16, torch.bfloat16):
        with torch.autocast('cpu', dtype=dtype):
            low = conv(x)
        assert torch.isfinite(low).all()
        torch.testing.assert_close(low.float(), y, atol=0.05, rtol=0.05)


def test_bad_arf_config_and_kernel_size():
    with pytest.raises(ValueError, match='nRotation must be a power of two'):
        ORConv2d(4, 2, arf_config=(1, 6))
    with pytest.raises(ValueError, match='kernel_size must be 1 or 3'):
        ORConv2d(4, 2, kernel_size=5, arf_config=(1, 8))


def test_rotation_invariant_pooling_is_the_max_over_orientations():
    pool = RotationInvariantPooling(16, 8)
    x = torch.randn(2, 16, 3, 4)
    expected = torch.stack([x[:, c * 8:(c + 1) * 8].max(1).values for c in range(2)], 1)
    torch.testing.assert_close(pool(x), expected)
    # rolling the orientations of a feature (rotating the input by 45 degrees) leaves the pooled value
    rolled = x.reshape(2, 2, 8, 3, 4).roll(1, 2).reshape(2, 16, 3, 4)
    torch.testing.assert_close(pool(rolled), pool(x))
