"""ImagePool: the history buffer of generated images."""
import torch

from visiondiv.models.editors.cyclegan import ImagePool


def test_empty_pool_returns_the_query():
    images = torch.randn(3, 1, 4, 4)
    assert torch.equal(ImagePool(0).query(images), images)


def test_pool_fills_then_swaps_older_images_in():
    pool = ImagePool(2)
    first = torch.arange(2, dtype=torch.float32).reshape(2, 1, 1, 1)
    assert torch.equal(pool.query(first), first)          # filling: each image comes back as it is
    torch.manual_seed(0)
    seen = torch.cat([pool.query(torch.full((1, 1, 1, 1), 10.0 + i)) for i in range(40)]).flatten().tolist()
    # a full pool returns the query or an older image (which the query replaces), never anything else
    assert set(seen) <= {0.0, 1.0} | {10.0 + i for i in range(40)}
    assert any(v < 10 for v in seen) and any(v >= 10 for v in seen)
    assert len(pool.images) == 2
