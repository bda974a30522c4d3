"""CSLCoder (coders/angle_coder.py): encoded labels against a float64 reference written here for every window,
decoding back to the angle's bin, and the refused arguments. PseudoAngleCoder is tested in test_coders.py."""
import math

import pytest
import torch

from visiondiv.registry import TASK_UTILS

OFFSET = {'oc': 0, 'le90': 90, 'le135': 45}


def reference_label(angle, version, omega, window, radius):
    """mmrotate 1.x's circular smooth label in float64, written bin by bin (a later offset overwrites an earlier
    one that lands on the same bin, as mmrotate's scatter on the CPU)."""
    span = 90 if version == 'oc' else 180
    size = int(span // omega)
    k = int((math.degrees(angle) + OFFSET[version]) / omega)        # truncated, as .long()
    if window == 'pulse':
        window_values = [(0, 1.0)]
    elif window == 'rect':
        window_values = [(d, 1.0) for d in range(-radius, radius)]
    elif window == 'triangle':
        window_values = [(d, 1.0 - abs(d) / radius) for d in range(-radius, radius)]
    else:   # mmrotate 1.x: exp(-d^2) / (2 r^2)
        window_values = [(d, math.exp(-d * d) / (2 * radius ** 2)) for d in range(-(span // 2), span // 2)]
    label = [0.0] * size
    for d, v in window_values:
        label[(k + d) % size] = v
    return label, k


def coder(version='le90', **kw):
    return TASK_UTILS.build(dict(type='CSLCoder', angle_version=version, **kw))


CASES = [('le90', 1, 'gaussian', 1), ('le90', 1, 'gaussian', 6), ('le135', 1, 'gaussian', 2), ('oc', 1, 'gaussian', 1),
         ('oc', 10, 'gaussian', 6), ('le90', 1, 'triangle', 3), ('le135', 5, 'triangle', 2), ('oc', 2, 'triangle', 6),
         ('le90', 1, 'rect', 2), ('oc', 3, 'rect', 4), ('le90', 1, 'pulse', 6), ('le135', 10, 'pulse', 6)]


def angles_in_range(version):
    # degrees away from bin edges (so float32 and float64 truncate alike), including both ends of the range
    lo = -OFFSET[version]
    span = 90 if version == 'oc' else 180
    return [math.radians(lo + f * span) for f in (0.0017, 0.1033, 0.3487, 0.5021, 0.7513, 0.9978)]


@pytest.mark.parametrize('version,omega,window,radius', CASES)
def test_encode_matches_the_float64_reference(version, omega, window, radius):
    c = coder(version, omega=omega, window=window, radius=radius)
    span = 90 if version == 'oc' else 180
    assert c.encode_size == span // omega
    angles = angles_in_range(version)
    out = c.encode(torch.tensor(angles, dtype=torch.float32)[:, None])
    assert out.shape == (len(angles), c.encode_size) and out.dtype == torch.float32
    expected = torch.tensor([reference_label(a, version, omega, window, radius)[0] for a in angles],
                            dtype=torch.float64)
    torch.testing.assert_close(out.double(), expected, rtol=0, atol=1e-7)


def test_hand_values_of_the_config_coder():
    # rotated-fcos-hbox-le90_r50_fpn_csl-gaussian_1x_dota: le90, omega 1, gaussian, radius 1
    c = coder('le90', omega=1, window='gaussian', radius=1)
    label = c.encode(torch.tensor([[math.radians(0.3)], [math.radians(-89.7)]]))
    # 0.3 deg -> bin 90: peak exp(0) / 2, neighbours exp(-1) / 2, exp(-4) / 2
    assert label[0, 90].item() == pytest.approx(0.5)
    assert label[0, 89].item() == pytest.approx(math.exp(-1) / 2) and label[0, 91].item() == pytest.approx(
        math.exp(-1) / 2)
    assert label[0, 92].item() == pytest.approx(math.exp(-4) / 2)
    # -89.7 deg -> bin 0: the window wraps to bin 179
    assert label[1, 0].item() == pytest.approx(0.5) and label[1, 179].item() == pytest.approx(math.exp(-1) / 2)
    # triangle radius 2 at bin 90: 1 - |d| / 2 for d in [-2, 2)
    tri = coder('le90', window='triangle', radius=2).encode(torch.tensor([[math.radians(0.3)]]))[0]
    assert tri[87:93].tolist() == [0.0, 0.0, 0.5, 1.0, 0.5, 0.0]


@pytest.mark.parametrize('version,omega,window,radius', [
    ('le90', 1, 'gaussian', 1), ('le135', 1, 'gaussian', 6), ('oc', 1, 'gaussian', 3), ('le90', 1, 'triangle', 4),
    ('le135', 5, 'triangle', 2), ('oc', 1, 'pulse', 6), ('le90', 10, 'pulse', 6)])
def test_decode_of_the_encoding_is_the_bin_centre(version, omega, window, radius):
    c = coder(version, omega=omega, window=window, radius=radius)
    angles = angles_in_range(version)
    decoded = c.decode(c.encode(torch.tensor(angles)[:, None]))
    centres = []
    for a in angles:
        k = reference_label(a, version, omega, window, radius)[1] % c.encode_size
        centres.append(math.radians(((k + 0.5) * omega) % (90 if version == 'oc' else 180) - OFFSET[version]))
    torch.testing.assert_close(decoded.double(), torch.tensor(centres, dtype=torch.float64), rtol=0, atol=1e-6)
    # within half a bin of the angle
    assert (decoded.double() - torch.tensor(angles, dtype=torch.float64)).abs().max() <= math.radians(omega) / 2 + 1e-6


def test_rect_decodes_to_the_first_bin_of_its_window():
    c = coder('le90', window='rect', radius=3)
    assert c.decode(c.encode(torch.tensor([[math.radians(10.4)]]))).item() == pytest.approx(
        math.radians(97 + 0.5 - 90))                 # bin 100, window [97, 103): argmax takes the first


def test_decode_shapes_dtypes_and_empty_inputs():
    c = coder('le90')
    scores = torch.zeros(2, 3, 4, 180)
    scores[..., 45] = 1.0
    out = c.decode(scores, keepdim=True)
    assert out.shape == (2, 3, 4, 1)
    torch.testing.assert_close(out, torch.full((2, 3, 4, 1), math.radians(45.5 - 90)))
    assert c.decode(scores).shape == (2, 3, 4)
    assert c.decode(torch.zeros(0, 180)).shape == (0,) and c.decode(torch.zeros(0, 180), keepdim=True).shape == (0, 1)
    assert c.encode(torch.zeros(0, 1)).shape == (0, 180)
    half = c.encode(torch.tensor([[0.2]], dtype=torch.float16))
    assert half.dtype == torch.float16 and half.argmax().item() == int(math.degrees(0.2) + 90)


@pytest.mark.parametrize('kw,key', [(dict(angle_version='le45'), 'angle_version'), (dict(window='cosine'), 'window'),
                                    (dict(omega=0), 'omega'), (dict(omega=200), 'omega'), (dict(radius=0), 'radius'),
                                    (dict(window='rect', radius=1.5), 'radius')])
def test_bad_arguments_are_named(kw, key):
    cfg = dict(type='CSLCoder', angle_version='le90')
    cfg.update(kw)
    with pytest.raises(ValueError, match=f'CSLCoder: {key}'):
        TASK_UTILS.build(cfg)
