"""PackClsInputs: one image to (C, H, W), gt_label to a 0-d long tensor of a ClsDataSample."""
import numpy as np
import pytest
import torch

from visiondiv.registry import TRANSFORMS
from visiondiv.structures import ClsDataSample


def test_pack():
    img = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = TRANSFORMS.build(dict(type='PackClsInputs'))(dict(img=img, gt_label=np.int64(7), sample_idx=np.int64(3),
                                                            img_shape=(4, 5), other='x'))
    assert out['inputs'].dtype == torch.uint8 and out['inputs'].shape == (3, 4, 5)
    assert np.array_equal(out['inputs'].permute(1, 2, 0).numpy(), img)
    sample = out['data_samples']
    assert isinstance(sample, ClsDataSample) and sample.gt_label.shape == () and sample.gt_label.item() == 7
    assert sample.metainfo == dict(sample_idx=3, img_shape=(4, 5))


def test_grey_float_and_no_label():
    out = TRANSFORMS.build(dict(type='PackClsInputs'))(dict(img=np.ones((4, 5), np.float64)))
    assert out['inputs'].shape == (1, 4, 5) and out['inputs'].dtype == torch.float32
    assert 'gt_label' not in out['data_samples']


def test_errors():
    pack = TRANSFORMS.build(dict(type='PackClsInputs'))
    with pytest.raises(KeyError, match="PackClsInputs: results has no 'img'"):
        pack(dict(gt_label=1))
    with pytest.raises(ValueError, match="PackClsInputs: 'gt_label' must be an int"):
        pack(dict(img=np.zeros((2, 2, 3), np.uint8), gt_label=1.0))
    with pytest.raises(ValueError, match='must be one image'):
        pack(dict(img=[np.zeros((2, 2, 3), np.uint8)]))
    with pytest.raises(ValueError, match="PackClsInputs: results\\['img'\\] holds NaN"):
        pack(dict(img=np.full((2, 2), np.nan)))
    with pytest.raises(TypeError, match='not a string'):
        TRANSFORMS.build(dict(type='PackClsInputs', meta_keys='img_path'))
