"""RotatedSingleRoIExtractor: level mapping by hand, output = mmcv RoIAlignRotated on the chosen level."""
import pytest
import torch
from mmcv.ops import RoIAlignRotated

from visiondiv.registry import MODELS

STRIDES = [4, 8, 16, 32]


def build(**kw):
    cfg = dict(type='RotatedSingleRoIExtractor', out_channels=3, featmap_strides=STRIDES,
               roi_layer=dict(type='RoIAlignRotated', out_size=7, sample_num=2, clockwise=True))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_level_mapping_by_hand():
    ext = build()
    # scale sqrt(w h): < 112 level 0, [112, 224) level 1, [224, 448) level 2, >= 448 level 3 (finest_scale 56)
    wh = torch.tensor([[10., 10.], [111., 111.], [112., 112.], [200., 62.72], [224., 224.], [448., 448.],
                       [2000., 900.]])
    rois = torch.cat([torch.zeros(7, 3), wh, torch.zeros(7, 1)], 1)
    assert ext.map_roi_levels(rois, 4).tolist() == [0, 0, 1, 1, 2, 3, 3]
    assert ext.map_roi_levels(rois, 2).tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert build(finest_scale=28).map_roi_levels(rois[:1], 4).tolist() == [0]
    assert build(finest_scale=28).map_roi_levels(rois[1:2], 4).tolist() == [1]


def test_output_equals_roi_align_rotated_on_the_chosen_level_and_backward():
    ext = build()
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(2, 3, 256 // s, 256 // s, generator=g, requires_grad=True) for s in STRIDES]
    rois = torch.tensor([[0., 60., 70., 40., 20., 0.3],      # scale 28: level 0
                         [1., 120., 100., 150., 100., -0.8],  # 122: level 1
                         [0., 128., 128., 300., 200., 1.2],   # 245: level 2
                         [1., 128., 128., 600., 500., 0.1]])  # 548: level 3
    out = ext(tuple(feats), rois)
    assert out.shape == (4, 3, 7, 7)
    for i, level in enumerate([0, 1, 2, 3]):
        op = RoIAlignRotated(output_size=7, spatial_scale=1 / STRIDES[level], sampling_ratio=2, clockwise=True)
        torch.testing.assert_close(out[i:i + 1], op(feats[level], rois[i:i + 1]))
    out.sum().backward()
    assert all(f.grad is not None and torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0 for f in feats)
    # one level only: every RoI from it; no RoI: zeros
    torch.testing.assert_close(build(featmap_strides=[4])((feats[0],), rois),
                               RoIAlignRotated(7, 1 / 4, 2, clockwise=True)(feats[0], rois))
    assert ext(tuple(feats), rois[:0]).shape == (0, 3, 7, 7)
    # roi_scale_factor scales w and h before pooling
    scaled = ext(tuple(feats), rois[:1], roi_scale_factor=1.5)
    big = rois[:1].clone()
    big[:, 3:5] *= 1.5
    torch.testing.assert_close(scaled, RoIAlignRotated(7, 1 / 4, 2, clockwise=True)(feats[0], big))


def test_bad_input():
    with pytest.raises(ValueError, match=r"roi_layer\.type='RoIAlign'"):
        build(roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0))
    ext = build()
    feats = tuple(torch.zeros(1, 3, 8, 8) for _ in STRIDES)
    with pytest.raises(ValueError, match=r'\(b, cx, cy, w, h, θ\)'):
        ext(feats, torch.tensor([[0., 1., 1., 5., 5.]]))


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_low_precision_features_pool_fp32_rois(dtype):
    """bf16/fp16 features (CPU) are pooled in fp32 at the fp32 RoIs: in bf16 (1000.7, 900.3, 40.6, 20.2) would
    be (1000, 900, 40.5, 20.25), and a 111.9-pixel square (level 0) a 112 one (level 1)."""
    ext = build()
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(1, 3, 1100 // s, 1100 // s, generator=g).to(dtype) for s in STRIDES]
    rois = torch.tensor([[0., 1000.7, 900.3, 40.6, 20.2, 0.3],
                         [0., 1000.7, 900.3, 111.9, 111.9, 0.3]])
    out = ext(tuple(feats), rois)
    assert out.dtype == dtype
    for i, level in enumerate([0, 0]):
        expected = ext.roi_layers[level](feats[level].float(), rois[i:i + 1]).to(dtype)
        torch.testing.assert_close(out[i:i + 1], expected, rtol=0, atol=0)
