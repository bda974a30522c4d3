import copy
from types import SimpleNamespace

import albumentations as A
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import visiondiv.datasets  # noqa: F401  (registers the transforms)
from visiondiv.datasets.transforms import intensity
from visiondiv.registry import TRANSFORMS

#: the "standard augmentation" baseline: geometric (image and label map) + photometric, on float slices
STANDARD_AUG = dict(type='SliceAlbu', transforms=[
    dict(type='Affine', scale=(0.9, 1.1), translate_percent=(-0.0625, 0.0625), rotate=(-15, 15), p=0.5),
    dict(type='OneOf', transforms=[dict(type='ElasticTransform', alpha=30, sigma=6),
                                   dict(type='GridDistortion', num_steps=5, distort_limit=0.2)], p=0.3),
    dict(type='RandomBrightnessContrast', brightness_limit=0.1, contrast_limit=0.1, p=0.5),
    dict(type='RandomGamma', gamma_limit=(80, 120), p=0.5),
    dict(type='GaussNoise', std_range=(0.01, 0.05), p=0.3),
])


def _slice(seed=0, shape=(48, 40)):
    rng = np.random.default_rng(seed)
    seg = np.zeros(shape, np.uint8)
    seg[10:30, 12:22] = 1
    seg[35:40, 5:35] = 1
    img = np.clip(0.3 + 0.4 * seg + rng.normal(0, 0.05, shape), 0, 1).astype(np.float32)
    return dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map'], img_shape=shape, case_id='mr_000',
                slice_idx=3)


def test_slice_albu_image_only_from_config():
    results = _slice()
    before = copy.deepcopy(results)
    t = TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='RandomIntensityRemap', p=1.0), seed=3))
    out = t(results)
    reference = A.Compose([intensity.RandomIntensityRemap(p=1.0)], seed=3)(image=before['img'])['image']
    np.testing.assert_array_equal(out['img'], reference)
    assert not np.allclose(out['img'], before['img'])
    assert out['img'].dtype == np.float32 and out['img'].shape == before['img'].shape
    assert np.array_equal(out['gt_seg_map'], before['gt_seg_map'])
    assert (out['case_id'], out['slice_idx'], out['img_shape']) == ('mr_000', 3, before['img'].shape)


def test_slice_albu_moves_label_map_with_image():
    """With nearest interpolation on a 0/1 image, every geometric transform must give image == label map."""
    geometric = [dict(type='Affine', scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-20, 20), p=1.0),
                 dict(type='ElasticTransform', alpha=30, sigma=6, p=1.0), dict(type='GridDistortion', p=1.0)]
    for cfg in geometric:
        results = _slice()
        seg0 = results['gt_seg_map'].copy()
        results['img'] = seg0.astype(np.float32)
        t = TRANSFORMS.build(dict(type='SliceAlbu', transforms=[dict(cfg, interpolation=cv2.INTER_NEAREST)], seed=1))
        out = t(results)
        assert out['gt_seg_map'].dtype == np.uint8
        assert not np.array_equal(out['gt_seg_map'], seg0), cfg['type']        # it did move
        np.testing.assert_array_equal(out['img'], out['gt_seg_map'].astype(np.float32), err_msg=cfg['type'])


def test_standard_augmentation_recipe():
    t = TRANSFORMS.build(dict(STANDARD_AUG, seed=0))
    changed = 0
    for i in range(20):
        results = _slice(i)
        img0 = results['img'].copy()
        out = t(results)
        assert out['img'].shape == img0.shape and out['img'].dtype == np.float32      # still one channel
        assert np.isfinite(out['img']).all() and out['img'].min() >= 0 and out['img'].max() <= 1
        assert out['gt_seg_map'].dtype == np.uint8 and set(np.unique(out['gt_seg_map'])) <= {0, 1}
        # the bright tissue is still where the label map says, after any geometric change
        assert out['img'][out['gt_seg_map'] == 1].mean() > out['img'][out['gt_seg_map'] == 0].mean() + 0.2
        changed += not np.array_equal(out['img'], img0)
    assert changed >= 15


def test_slice_albu_several_images_and_seg_fields():
    results = _slice()
    results['img_b'] = results['img'].copy()
    results['aux_map'] = results['gt_seg_map'].copy()
    results['seg_fields'] = ['gt_seg_map', 'aux_map']
    t = TRANSFORMS.build(dict(type='SliceAlbu', keys=('img', 'img_b'), seed=0,
                              transforms=[dict(type='Affine', rotate=(30, 30), p=1.0),
                                          dict(type='RandomIntensityRemap', p=1.0)]))
    out = t(results)
    np.testing.assert_array_equal(out['img'], out['img_b'])
    np.testing.assert_array_equal(out['gt_seg_map'], out['aux_map'])
    assert not np.array_equal(out['gt_seg_map'], _slice()['gt_seg_map'])
    # an unpaired translation sample: only the CT and its mask move; the MR slice is left alone
    seg = _slice()['gt_seg_map']
    sample = dict(img_ct=seg.astype(np.float32), mask_ct=seg.copy(), img_mr=seg.astype(np.float32))
    t = TRANSFORMS.build(dict(type='SliceAlbu', keys=('img_ct',), mask_keys=('mask_ct',), seed=0,
                              transforms=dict(type='Affine', rotate=(30, 30), interpolation=cv2.INTER_NEAREST, p=1)))
    out = t(sample)
    np.testing.assert_array_equal(out['img_ct'], out['mask_ct'].astype(np.float32))
    assert not np.array_equal(out['mask_ct'], seg) and np.array_equal(out['img_mr'], seg.astype(np.float32))
    with pytest.raises(KeyError, match="'mask_mr'"):
        TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='Affine'), mask_keys=('mask_mr',)))(_slice())


def test_slice_albu_reseeds_per_worker(monkeypatch):
    img = _slice()['img']

    def stream(worker_seed, seed=None):
        t = TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='RandomIntensityRemap', p=1.0), seed=seed))
        monkeypatch.setattr(torch.utils.data, 'get_worker_info', lambda: SimpleNamespace(id=0, seed=worker_seed))
        return [t(dict(img=img.copy()))['img'] for _ in range(3)]

    a, b, c = stream(100), stream(100), stream(101)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not any(np.allclose(x, z) for x, z in zip(a, c))
    # with a seed too: still one stream per worker seed
    assert not np.allclose(stream(100, seed=5)[0], stream(101, seed=5)[0])


def test_slice_albu_without_seed_follows_numpy_global_seed():
    img = _slice()['img']

    def stream(global_seed):
        np.random.seed(global_seed)  # what mmengine's randomness.seed does before building the dataloaders
        t = TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='RandomIntensityRemap', p=1.0)))
        return [t(dict(img=img.copy()))['img'] for _ in range(3)]

    a, b, c = stream(0), stream(0), stream(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not any(np.allclose(x, z) for x, z in zip(a, c))


def test_slice_albu_errors():
    with pytest.raises(KeyError, match='NoSuchAug'):
        TRANSFORMS.build(dict(type='SliceAlbu', transforms=[dict(type='NoSuchAug')]))
    with pytest.raises(KeyError, match="'img_b'"):
        TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='RandomGamma'), keys=('img', 'img_b')))(_slice())
    # an explicit albumentations name reaches albumentations' own class of the same name
    t = TRANSFORMS.build(dict(type='SliceAlbu', transforms=dict(type='albumentations.HistogramMatching',
                                                                reference_images=[np.zeros((4, 4), np.float32)],
                                                                read_fn=lambda x: x)))
    assert type(t.aug.transforms[0]) is A.HistogramMatching


def test_thin_wrappers(tmp_path):
    conv = torch.nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        conv.weight.fill_(0.5)
        conv.bias.fill_(0.2)
    cfg = Config(dict(model=dict(type='CycleGAN', generator=dict(type='Conv2d', in_channels=1, out_channels=1,
                                                                 kernel_size=1))))
    ckpt = str(tmp_path / 'translator.pth')
    torch.save({'meta': {'cfg': cfg.pretty_text},
                'state_dict': {f'generators.mr.{k}': v for k, v in conv.state_dict().items()}}, ckpt)
    results = _slice()
    img0, seg0 = results['img'].copy(), results['gt_seg_map'].copy()
    out = TRANSFORMS.build(dict(type='CTToPseudoMR', checkpoint=ckpt, prob=1.0))(results)
    # 1x1 conv y = 0.5 x + 0.2 on [-1, 1]: u -> 0.5 u + 0.35 on [0, 1]
    np.testing.assert_allclose(out['img'], 0.5 * img0.astype(np.float64) + 0.35, atol=1e-6)
    assert np.array_equal(out['gt_seg_map'], seg0)
    t = TRANSFORMS.build(dict(type='CTToPseudoMR', checkpoint=ckpt, prob=0.0))
    np.testing.assert_array_equal(t(dict(img=img0.copy()))['img'], img0)

    ref = np.random.default_rng(0).uniform(0.2, 0.6, 10000)
    out = TRANSFORMS.build(dict(type='HistogramMatching', reference=ref))(dict(img=img0.copy()))
    np.testing.assert_allclose(np.quantile(out['img'], [0.1, 0.5, 0.9]), [0.24, 0.4, 0.56], atol=1e-2)
    out = TRANSFORMS.build(dict(type='NyulStandardization', landmarks=np.linspace(0, 100, 13)))(dict(img=img0.copy()))
    assert out['img'].min() == 0 and out['img'].max() == 1
    t = TRANSFORMS.build(dict(type='RandomIntensityRemap', num_control_points=3, seed=0))
    assert t.aug.transforms[0].p == 0.5 and t.aug.transforms[0].num_control_points == 3
