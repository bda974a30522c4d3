"""GCDDataPreprocessor: (V, C, H, W) items -> (B, V, C, H, W) float32, per-channel normalisation, refusals."""
import numpy as np
import pytest
import torch

from visiondiv.models.data_preprocessors import GCDDataPreprocessor


def test_stacks_views_and_normalises_per_channel():
    items = [torch.randint(0, 256, (2, 3, 4, 5), dtype=torch.uint8) for _ in range(3)]
    pre = GCDDataPreprocessor(mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 5.0])
    out = pre(dict(inputs=items, data_samples=['a', 'b', 'c']))
    x = out['inputs']
    assert x.shape == (3, 2, 3, 4, 5) and x.dtype == torch.float32
    ref = (np.stack([i.numpy() for i in items]).astype(np.float64) - np.array([10, 20, 30])[:, None, None]) \
        / np.array([2, 4, 5])[:, None, None]
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-6)
    assert out['data_samples'] == ['a', 'b', 'c']


def test_bgr_to_rgb_reverses_channels_before_normalising():
    item = torch.arange(3, dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous()
    x = GCDDataPreprocessor(mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0], bgr_to_rgb=True)(dict(inputs=[item]))['inputs']
    assert x[0, 0, :, 0, 0].tolist() == [2.0, 1.0, 0.0]


def test_refusals():
    pre = GCDDataPreprocessor(mean=[0.0], std=[1.0])
    with pytest.raises(ValueError, match='differ in shape'):
        pre(dict(inputs=[torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 5, 4)]))
    with pytest.raises(ValueError, match='NaN / inf'):
        pre(dict(inputs=[torch.full((2, 1, 4, 4), float('nan'))]))
    with pytest.raises(ValueError, match=r'\(B, V, C, H, W\)'):
        pre(dict(inputs=[torch.zeros(1, 4, 4)]))
    with pytest.raises(ValueError, match='3-channel'):
        GCDDataPreprocessor(mean=[0.0, 0.0], std=[1.0, 1.0])(dict(inputs=[torch.zeros(1, 3, 4, 4)]))
    with pytest.raises(ValueError, match='std'):
        GCDDataPreprocessor(mean=[0.0], std=[0.0])
