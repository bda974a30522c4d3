import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from visiondiv.registry import TRANSFORMS


def pack(results, **kwargs):
    return TRANSFORMS.build(dict(type='PackGCDInputs', **kwargs))(results)


def test_single_image_is_one_view_in_chw():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = pack(dict(img=img, gt_label=np.int64(4), labelled=np.bool_(True), old=True, sample_idx=7,
                    img_path='a/b.png', ori_shape=(2, 3)))
    x = out['inputs']
    assert x.shape == (1, 3, 2, 3) and x.dtype == torch.uint8 and x.is_contiguous()
    for c in range(3):
        np.testing.assert_array_equal(x[0, c].numpy(), img[:, :, c])
    sample = out['data_samples']
    assert isinstance(sample, BaseDataElement)
    assert sample.gt_label.dtype == torch.long and sample.gt_label.shape == () and int(sample.gt_label) == 4
    assert 'gt_label' in sample.keys()                       # a data field, not metainfo
    assert sample.metainfo == dict(labelled=True, old=True, sample_idx=7, img_path='a/b.png')
    assert type(sample.labelled) is bool


def test_views_stack_and_grey_views_get_a_channel():
    views = [np.full((4, 5), v, np.float64) for v in (0.5, 2.0)]
    out = pack(dict(img=views, gt_label=0))
    assert out['inputs'].shape == (2, 1, 4, 5) and out['inputs'].dtype == torch.float32
    np.testing.assert_array_equal(out['inputs'][:, 0, 0, 0].numpy(), [0.5, 2.0])
    # meta keys absent from the results are skipped, and gt_label is optional
    out = pack(dict(img=np.zeros((4, 5, 1), np.uint8), sample_idx=1), meta_keys=('sample_idx', 'old'))
    assert out['data_samples'].metainfo == dict(sample_idx=1) and 'gt_label' not in out['data_samples']


@pytest.mark.parametrize('results, error, message', [
    (dict(img=[np.zeros((2, 2, 1)), np.zeros((3, 2, 1))]), ValueError, r'the views differ in shape or dtype'),
    (dict(img=[np.zeros((2, 2, 1), np.uint8), np.zeros((2, 2, 1))]), ValueError, r'differ in shape or dtype'),
    (dict(img=np.array([[[np.nan]]])), ValueError, r'holds NaN or inf'),
    (dict(img=np.zeros((2, 2, 1), bool)), ValueError, r'has dtype bool'),
    (dict(img=np.zeros((1, 2, 2, 1))), ValueError, r'view 0 of results\[\'img\'\] must be an \(H, W, C\)'),
    (dict(img=[]), ValueError, r'empty list of views'),
    (dict(img=np.zeros((2, 2, 1)), gt_label=1.0), ValueError, r"'gt_label' must be an int, got 1.0"),
    (dict(img_path='x.png'), KeyError, r"PackGCDInputs: results has no 'img'"),
])
def test_bad_inputs_are_refused(results, error, message):
    with pytest.raises(error, match=message):
        pack(results)
