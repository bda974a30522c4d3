"""GlobalAveragePooling: mmpretrain's neck, tuples in, tuples out."""
import pytest
import torch

from visiondiv.registry import MODELS


def test_tuple_and_tensor():
    gap = MODELS.build(dict(type='GlobalAveragePooling'))
    a, b = torch.randn(2, 3, 4, 4), torch.randn(2, 5, 2, 2)
    out = gap((a, b))
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 3), (2, 5)]
    torch.testing.assert_close(out[0], a.mean((2, 3)))
    torch.testing.assert_close(gap(a), a.mean((2, 3)))


@pytest.mark.parametrize('dim, shape', [(1, (2, 3, 7)), (3, (2, 3, 2, 2, 2))])
def test_other_dims(dim, shape):
    x = torch.randn(shape)
    torch.testing.assert_close(MODELS.build(dict(type='GlobalAveragePooling', dim=dim))(x),
                               x.flatten(2).mean(2))


def test_errors():
    with pytest.raises(ValueError, match='dim must be 1, 2 or 3'):
        MODELS.build(dict(type='GlobalAveragePooling', dim=4))
    with pytest.raises(ValueError, match=r'needs \(N, C, H, W\) maps, got torch.Size\(\[2, 3\]\)'):
        MODELS.build(dict(type='GlobalAveragePooling'))(torch.randn(2, 3))
