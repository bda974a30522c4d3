import os.path as osp

import albumentations as A
import numpy as np
import pytest
import torch
from mmengine.config import Config

from visiondiv.datasets import load_nifti, save_nifti
from visiondiv.datasets.transforms import build_albu
from visiondiv.datasets.transforms.intensity import (CTToPseudoMR, HistogramMatching, NyulStandardization,
                                                     RandomIntensityRemap)

QS = np.linspace(0.05, 0.95, 19)
#: the percentiles TorchIO's Nyúl map is piecewise linear between (its 13 landmarks less 25 and 75)
NYUL_KNOTS = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]
NYUL_USED = [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12]


def _percentile_normalise(vol):
    """float64 reference of normalize_volume(vol, 'percentile') with percentiles (0.5, 99.5)."""
    vol = vol.astype(np.float32).astype(np.float64)
    lo, hi = np.percentile(vol, [0.5, 99.5])
    return (np.clip(vol, lo, hi) - lo) / (hi - lo)


# ---------------------------------------------------------------- HistogramMatching

def test_histogram_matching_gives_reference_quantiles():
    rng = np.random.default_rng(0)
    img = rng.exponential(0.2, (64, 64)).astype(np.float32)          # X: exponential
    ref = rng.uniform(0.2, 0.6, 200_000)                              # Y: U(0.2, 0.6), quantile 0.2 + 0.4 q
    mask = (img > 0.3).astype(np.uint8)
    out = A.Compose([HistogramMatching(ref)], seed=0)(image=img, mask=mask)
    assert out['image'].dtype == np.float32 and out['image'].shape == img.shape
    np.testing.assert_allclose(np.quantile(out['image'], QS), 0.2 + 0.4 * QS, atol=2e-3)
    np.testing.assert_allclose(np.quantile(out['image'], QS), np.quantile(ref, QS), atol=1e-3)
    assert np.array_equal(out['mask'], mask)
    # (H, W, 1) keeps its shape and gets the same values
    out3 = HistogramMatching(ref)(image=img[..., None])['image']
    assert out3.shape == (64, 64, 1)
    np.testing.assert_allclose(out3[..., 0], out['image'], atol=1e-6)
    # monotone: the order of the pixels is kept
    order = np.argsort(img.ravel(), kind='stable')
    assert np.all(np.diff(out['image'].ravel()[order]) >= 0)


def _write(path, vol):
    save_nifti(path, vol, (2.0, 2.0, 4.0))
    return path


@pytest.mark.parametrize('masking', ['none', 'threshold', 'paths'])
def test_histogram_matching_nifti_reference(tmp_path, masking):
    rng = np.random.default_rng(1)
    vols, masks = [], []
    for i, (shape, scale) in enumerate([(3.0, 100.0), (2.0, 300.0)]):
        vol = rng.gamma(shape, scale, (12, 12, 5))
        fg = np.zeros(vol.shape, bool)
        fg[2:10, 3:11] = True
        vol[~fg] = 0.0                                             # background
        vols.append(_write(str(tmp_path / f'mr{i}.nii.gz'), vol))
        masks.append(_write(str(tmp_path / f'mask{i}.nii.gz'), fg.astype(np.uint8)))
    normed = [_percentile_normalise(load_nifti(p)[0]) for p in vols]
    fg_masks = [load_nifti(p)[0] > 0 for p in masks]
    if masking == 'none':
        kwargs, pooled = {}, np.concatenate([v.ravel() for v in normed])
    elif masking == 'threshold':
        kwargs, pooled = dict(reference_mask=0.0), np.concatenate([v[v > 0] for v in normed])
    else:
        kwargs, pooled = dict(reference_mask=masks), np.concatenate([v[m] for v, m in zip(normed, fg_masks)])
    img = rng.normal(0.5, 0.1, (48, 48)).astype(np.float32)
    out = HistogramMatching(vols, num_quantiles=None, **kwargs)(image=img)['image']
    np.testing.assert_allclose(np.quantile(out, QS), np.quantile(pooled, QS), atol=5e-3)
    assert out.min() >= 0 and out.max() <= 1


def test_histogram_matching_errors(tmp_path):
    missing = str(tmp_path / 'nope.nii.gz')
    with pytest.raises(FileNotFoundError, match='nope.nii.gz'):
        HistogramMatching([missing])
    vol = np.ones((4, 4, 2))
    vol[1, 1, 1] = np.nan
    bad = _write(str(tmp_path / 'nan.nii.gz'), vol)
    with pytest.raises(ValueError, match=r'nan.nii.gz.*1 NaN'):
        HistogramMatching([bad])
    with pytest.raises(ValueError, match='reference array.*inf'):
        HistogramMatching(np.array([0.1, np.inf]))
    good = _write(str(tmp_path / 'good.nii.gz'), np.arange(32.0).reshape(4, 4, 2))
    small = _write(str(tmp_path / 'small.nii.gz'), np.ones((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r'small.nii.gz.*shape'):
        HistogramMatching([good], reference_mask=[small])
    with pytest.raises(ValueError, match='NaN'):
        HistogramMatching(np.linspace(0, 1, 10))(image=np.full((4, 4), np.nan, np.float32))


# ---------------------------------------------------------------- NyulStandardization

def _nyul_volume(rng, shape_param, scale, offset=0.0):
    # 7 * 11 * 13 = 1001 voxels: every Nyúl percentile p falls on the order statistic 10 p exactly
    return (rng.gamma(shape_param, scale, (7, 11, 13)) + offset).astype(np.float32)


def test_nyul_two_percentile_case(tmp_path):
    """One training volume: its landmarks are its own percentiles scaled so that p1 -> 0 and p99 -> 100, so
    on that volume the map is the straight line through the two percentiles."""
    vol = _nyul_volume(np.random.default_rng(2), 2.0, 50.0)
    path = _write(str(tmp_path / 'v.nii.gz'), vol)
    landmarks = NyulStandardization.train_landmarks([path])
    x = vol.reshape(7, -1)
    p1, p99 = np.percentile(x.astype(np.float64), [1, 99])
    expected = np.clip((x - p1) / (p99 - p1), 0, 1)
    out = NyulStandardization(landmarks)(image=x)['image']
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert (out == 0).sum() >= 10 and (out == 1).sum() >= 10     # the 1 % tails saturate


def test_nyul_maps_percentiles_onto_landmarks(tmp_path):
    rng = np.random.default_rng(3)
    vols = [_nyul_volume(rng, 2.0, 50.0), _nyul_volume(rng, 5.0, 20.0, 100.0), _nyul_volume(rng, 1.0, 200.0)]
    paths = [_write(str(tmp_path / f'v{i}.nii.gz'), v) for i, v in enumerate(vols)]
    npy = str(tmp_path / 'lm.npy')
    landmarks = NyulStandardization.train_landmarks(paths, output_path=npy)
    assert landmarks.shape == (13,) and landmarks[0] == pytest.approx(0) and landmarks[-1] == pytest.approx(100)
    standard = (landmarks[NYUL_USED] - landmarks[0]) / (landmarks[-1] - landmarks[0])
    for vol in vols:
        # the same volume as two different slice shapes: percentiles do not depend on the shape
        out = NyulStandardization(npy)(image=vol.reshape(77, 13))['image']
        np.testing.assert_allclose(np.percentile(out.astype(np.float64), NYUL_KNOTS), standard, atol=1e-5)
    # TorchIO's text format and a .pth dict give the same landmarks
    txt = str(tmp_path / 'lm.txt')
    NyulStandardization.train_landmarks(paths, output_path=txt)
    pth = str(tmp_path / 'lm.pth')
    torch.save({'mr': torch.as_tensor(landmarks)}, pth)
    for src in (txt, pth):
        np.testing.assert_allclose(NyulStandardization(src).landmark_values, landmarks, rtol=1e-6)


def test_nyul_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        NyulStandardization(str(tmp_path / 'missing.npy'))
    short = str(tmp_path / 'short.npy')
    np.save(short, np.arange(5.0))
    with pytest.raises(ValueError, match=r'short.npy.*13 landmarks.*\(5,\)'):
        NyulStandardization(short)
    with pytest.raises(ValueError, match='NaN'):
        NyulStandardization(np.r_[np.arange(12.0), np.nan])
    with pytest.raises(ValueError, match='increase'):
        NyulStandardization(np.arange(13.0)[::-1])
    with pytest.raises(ValueError, match=r'lm.csv.*extension'):
        open(tmp_path / 'lm.csv', 'w').close()
        NyulStandardization(str(tmp_path / 'lm.csv'))
    with pytest.raises(FileNotFoundError, match='absent.nii.gz'):
        NyulStandardization.train_landmarks([str(tmp_path / 'absent.nii.gz')])
    vol = np.ones((4, 4, 2))
    vol[0, 0, 0] = np.inf
    bad = _write(str(tmp_path / 'inf.nii.gz'), vol)
    with pytest.raises(ValueError, match=r'inf.nii.gz.*1 inf'):
        NyulStandardization.train_landmarks([bad])


# ---------------------------------------------------------------- RandomIntensityRemap

def _remap_stream(seed, img, mask, n=5, p=1.0):
    aug = A.Compose([RandomIntensityRemap(num_control_points=4, p=p)], seed=seed)
    return [aug(image=img, mask=mask) for _ in range(n)]


def test_random_intensity_remap_seeded_and_in_range():
    rng = np.random.default_rng(4)
    img = rng.random((32, 32)).astype(np.float32)
    mask = (img > 0.5).astype(np.uint8)
    a, b, c = _remap_stream(7, img, mask), _remap_stream(7, img, mask), _remap_stream(8, img, mask)
    for x, y, z in zip(a, b, c):
        assert np.array_equal(x['image'], y['image'])
        assert not np.allclose(x['image'], z['image'])
        assert x['image'].dtype == np.float32 and 0 <= x['image'].min() and x['image'].max() <= 1
        assert np.array_equal(x['mask'], mask)
    assert not np.allclose(a[0]['image'], a[1]['image'])      # a new map per call


def test_random_intensity_remap_passes_through_control_points():
    t = RandomIntensityRemap(num_control_points=5, p=1.0)
    aug = A.Compose([t], seed=0)
    img = np.array([[0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.5]], np.float32)
    out = aug(image=img)['image']
    y = t.params['control_values']
    np.testing.assert_allclose(out[0, :5], y, atol=1e-6)
    np.testing.assert_allclose(out[0, 5:], [y[-1], y[0]], atol=1e-6)   # inputs clipped to [0, 1] first
    with pytest.raises(ValueError, match='num_control_points'):
        RandomIntensityRemap(num_control_points=1)


# ---------------------------------------------------------------- CTToPseudoMR

#: the 1x1 convolution y = A x + B on [-1, 1] images is the pseudo-MR map (0.5 u + 0.35) on [0, 1] images
A_W, B_W = 0.5, 0.2


def _affine_pseudo_mr(u):
    return ((A_W * (2 * u - 1) + B_W) + 1) / 2


def _save_translator(path, state, generator=dict(type='Conv2d', in_channels=1, out_channels=1, kernel_size=1)):
    cfg = Config(dict(model=dict(type='CycleGAN', domains=('ct', 'mr'), generator=generator)))
    torch.save({'meta': {'cfg': cfg.pretty_text}, 'state_dict': state}, path)
    return path


def pseudo_mr(checkpoint, **kwargs):
    """CTToPseudoMR as a config builds it: the generator loaded from ``checkpoint`` by load_translator."""
    return build_albu(dict(type='CTToPseudoMR', checkpoint=checkpoint, **kwargs))


def test_ct_to_pseudo_mr_takes_a_built_generator():
    conv = torch.nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(A_W)
        conv.bias.fill_(B_W)
    img = np.random.default_rng(4).random((9, 10)).astype(np.float32)
    out = CTToPseudoMR(conv)(image=img)['image']
    np.testing.assert_allclose(out, _affine_pseudo_mr(img.astype(np.float64)), atol=1e-6)
    with pytest.raises(TypeError, match='generator must be a built nn.Module'):
        CTToPseudoMR('translator.pth')
    with pytest.raises(KeyError, match='checkpoint='):
        build_albu(dict(type='CTToPseudoMR'))


@pytest.fixture
def translator(tmp_path):
    conv = torch.nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(A_W)
        conv.bias.fill_(B_W)
    state = {f'generators.mr.{k}': v for k, v in conv.state_dict().items()}
    state.update({f'generators.ct.{k}': -v for k, v in conv.state_dict().items()})
    return _save_translator(str(tmp_path / 'translator.pth'), state)


def test_ct_to_pseudo_mr_closed_form(translator):
    rng = np.random.default_rng(5)
    img = rng.random((30, 22)).astype(np.float32)            # not multiples of 4: padded and cropped back
    mask = (img > 0.5).astype(np.uint8)
    out = A.Compose([pseudo_mr(translator)], seed=0)(image=img, mask=mask)
    assert out['image'].dtype == np.float32 and out['image'].shape == img.shape
    np.testing.assert_allclose(out['image'], _affine_pseudo_mr(img.astype(np.float64)), atol=1e-6)
    assert np.array_equal(out['mask'], mask)
    out3 = pseudo_mr(translator)(image=img[..., None])['image']
    assert out3.shape == (30, 22, 1)
    np.testing.assert_allclose(out3[..., 0], out['image'], atol=1e-7)
    # several slices at once, in batches of 2
    stack = rng.random((5, 12, 12)).astype(np.float32)
    batched = pseudo_mr(translator, batch_size=2)(images=stack)['images']
    np.testing.assert_allclose(batched, _affine_pseudo_mr(stack.astype(np.float64)), atol=1e-6)


def test_ct_to_pseudo_mr_hu_window(translator):
    hu = np.array([[-2000.0, -1000.0, -300.0, 0.0, 400.0, 3000.0]], np.float32)
    out = pseudo_mr(translator, ct_window=(-1000, 400))(image=hu)['image']
    u = np.clip((hu.astype(np.float64) + 1000) / 1400, 0, 1)
    np.testing.assert_allclose(out, _affine_pseudo_mr(u), atol=1e-6)
    with pytest.raises(ValueError, match='ct_window'):
        pseudo_mr(translator, ct_window=(400, -1000))


def test_ct_to_pseudo_mr_seeded_choice(translator):
    img = np.full((8, 8), 0.2, np.float32)               # translated: 0.45, kept: 0.2

    def choices(seed):
        aug = A.Compose([pseudo_mr(translator, p=0.5)], seed=seed)
        return [bool(np.isclose(aug(image=img)['image'][0, 0], 0.45)) for _ in range(20)]

    a = choices(0)
    assert a == choices(0)
    assert a != choices(1)
    assert 0 < sum(a) < 20


def test_ct_to_pseudo_mr_bad_checkpoints(tmp_path):
    missing = str(tmp_path / 'absent.pth')
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        pseudo_mr(missing)
    seg = _save_translator(str(tmp_path / 'unet.pth'), {'backbone.conv.weight': torch.zeros(4, 1, 3, 3)})
    with pytest.raises(ValueError, match=r"unet.pth.*generators\.mr.*backbone"):
        pseudo_mr(seg)
    wrong = _save_translator(str(tmp_path / 'wrong.pth'),
                             {'generators.mr.weight': torch.zeros(1, 1, 3, 3), 'generators.mr.bias': torch.zeros(1)})
    with pytest.raises(ValueError, match=r'wrong.pth.*weight'):
        pseudo_mr(wrong)
    assert osp.isfile(wrong)


def test_ct_to_pseudo_mr_cyclegan_checkpoint(tmp_path):
    """A checkpoint of the real CycleGAN (tiny, with dropout): the output is the eval-mode generator's, every time."""
    from mmengine.registry import DefaultScope

    from visiondiv.registry import MODELS
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '../../../configs/_base_/models/cyclegan_lsgan_resnet.py'))
    cfg.model.generator.update(base_channels=4, num_blocks=1, use_dropout=True)
    cfg.model.discriminator.update(base_channels=4)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('visiondiv'):
        model = MODELS.build(cfg.model)
    path = str(tmp_path / 'cyclegan.pth')
    torch.save({'meta': {'cfg': cfg.pretty_text}, 'state_dict': model.state_dict()}, path)
    img = np.random.default_rng(6).random((32, 32)).astype(np.float32)
    x = torch.from_numpy(img)[None, None] * 2 - 1
    gen = model.generators['mr'].train()
    with torch.no_grad():
        assert not torch.equal(gen(x), gen(x))            # dropout is active in train mode
        expected = {d: ((model.generators[d].eval()(x)[0, 0].double() + 1) / 2).numpy() for d in ('mr', 'ct')}
    for domain in ('mr', 'ct'):
        aug = A.Compose([pseudo_mr(path, target_domain=domain)], seed=0)
        first, second = aug(image=img)['image'], aug(image=img)['image']
        np.testing.assert_array_equal(first, second)
        np.testing.assert_allclose(first, expected[domain], atol=1e-6)
    assert not np.allclose(expected['mr'], expected['ct'])
