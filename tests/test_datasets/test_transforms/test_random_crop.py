"""RandomCrop: torchvision's pad-then-crop (CIFAR's RandomCrop(32, padding=4)), every offset reachable."""
import numpy as np
import pytest

from visiondiv.registry import TRANSFORMS


def image(h=32, w=32):
    return np.arange(h * w * 3, dtype=np.int64).reshape(h, w, 3).astype(np.uint8)


def test_registered_as_ours():
    crop = TRANSFORMS.build(dict(type='RandomCrop', crop_size=32, padding=4))
    assert type(crop).__module__ == 'visiondiv.datasets.transforms.random_crop'


def test_cifar_crop_is_a_window_of_the_padded_image():
    img = image()
    padded = np.pad(img, ((4, 4), (4, 4), (0, 0)))
    crop = TRANSFORMS.build(dict(type='RandomCrop', crop_size=32, padding=4))
    np.random.seed(0)
    offsets = set()
    for _ in range(300):
        out = crop(dict(img=img.copy()))
        assert out['img'].shape == (32, 32, 3) and out['img_shape'] == (32, 32) and out['img'].dtype == np.uint8
        hits = [(t, lft) for t in range(9) for lft in range(9)
                if np.array_equal(padded[t:t + 32, lft:lft + 32], out['img'])]
        assert len(hits) == 1
        offsets.add(hits[0])
    assert len(offsets) > 60  # of the 81 offsets 0..8 x 0..8


def test_padding_forms_and_modes():
    img = image(4, 6)
    crop = TRANSFORMS.build(dict(type='RandomCrop', crop_size=(6, 10), padding=(2, 1)))  # lr 2, tb 1
    assert crop(dict(img=img.copy()))['img'].shape == (6, 10, 3)
    out = TRANSFORMS.build(dict(type='RandomCrop', crop_size=(4, 6), padding=(0, 0, 0, 0)))(dict(img=img.copy()))
    assert np.array_equal(out['img'], img)
    edge = TRANSFORMS.build(dict(type='RandomCrop', crop_size=(6, 8), padding=1, padding_mode='edge'))
    assert set(np.unique(edge(dict(img=img.copy()))['img'])) <= set(np.unique(img))
    grey = TRANSFORMS.build(dict(type='RandomCrop', crop_size=3, pad_val=7))(dict(img=np.zeros((3, 3), np.uint8)))
    assert grey['img'].shape == (3, 3)


def test_pad_if_needed():
    crop = TRANSFORMS.build(dict(type='RandomCrop', crop_size=8, pad_if_needed=True, pad_val=255))
    out = crop(dict(img=np.zeros((5, 8, 3), np.uint8)))
    assert out['img'].shape == (8, 8, 3) and (out['img'] == 255).any()
    with pytest.raises(ValueError, match=r'image is 5x8, smaller than crop_size 8x8 \(set pad_if_needed=True\)'):
        TRANSFORMS.build(dict(type='RandomCrop', crop_size=8))(dict(img=np.zeros((5, 8, 3), np.uint8)))


@pytest.mark.parametrize('kwargs, match', [(dict(crop_size=0), 'crop_size'), (dict(crop_size=(1, 2, 3)), 'crop_size'),
                                           (dict(crop_size=4, padding=(1, 2, 3)), 'padding'),
                                           (dict(crop_size=4, padding=-1), 'padding'),
                                           (dict(crop_size=4, padding_mode='wrap'), 'padding_mode')])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRANSFORMS.build(dict(type='RandomCrop', **kwargs))
