"""LoadImageFromFileBitDepth / decode_image: 8-bit images as mmdet loads them, 12/16-bit ones by their real range."""
import cv2
import numpy as np
import pytest

from visiondiv.datasets.transforms import ImageBitDepthError, decode_image, image_bit_depth
from visiondiv.registry import TRANSFORMS


def twelve_bit(shape=(6, 9, 3), seed=0):
    """12-bit data in a uint16 array, maximum 4095."""
    data = np.random.default_rng(seed).integers(0, 4096, shape).astype(np.uint16)
    data.flat[0] = 4095
    return data


def load(path, **kw):
    return TRANSFORMS.build(dict(type='LoadImageFromFileBitDepth', **kw))(dict(img_path=str(path)))


@pytest.mark.parametrize('name,gray', [('a.png', False), ('g.png', True), ('a.jpg', False), ('a.bmp', False),
                                       ('a.tif', False), ('g.tif', True)])
@pytest.mark.parametrize('color_type', ['color', 'grayscale', 'unchanged'])
def test_eight_bit_images_load_as_mmdet_loads_them(tmp_path, name, gray, color_type):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (7, 5) if gray else (7, 5, 3)).astype(np.uint8)
    cv2.imwrite(str(tmp_path / name), img)
    mmdet = TRANSFORMS.build(dict(type='mmdet.LoadImageFromFile', color_type=color_type))
    expected = mmdet(dict(img_path=str(tmp_path / name)))['img']
    got = load(tmp_path / name, color_type=color_type)['img']
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


@pytest.mark.parametrize('ext', ['png', 'tif'])
def test_twelve_bit_data_is_scaled_by_its_range(tmp_path, ext):
    data = twelve_bit()
    cv2.imwrite(str(tmp_path / f'a.{ext}'), data)
    assert image_bit_depth((tmp_path / f'a.{ext}').read_bytes()) == 16
    # mmdet's loading: cv2's 8-bit conversion (/ 256, floored for PNG, rounded for TIFF): nearly black
    assert TRANSFORMS.build(dict(type='mmdet.LoadImageFromFile'))(dict(img_path=str(tmp_path / f'a.{ext}')))[
        'img'].max() <= 16
    out = load(tmp_path / f'a.{ext}')
    assert out['img'].dtype == np.uint8 and np.array_equal(out['img'], data >> 4)      # 'auto': 12-bit -> / 16
    assert out['img_shape'] == out['ori_shape'] == (6, 9)
    assert np.array_equal(load(tmp_path / f'a.{ext}', bit_depth=16)['img'], data >> 8)
    assert np.array_equal(load(tmp_path / f'a.{ext}', bit_depth=12, to_float32=True)['img'],
                          (data >> 4).astype(np.float32))
    cv2.imwrite(str(tmp_path / f'g.{ext}'), data[..., 1])
    gray = load(tmp_path / f'g.{ext}', color_type='grayscale')['img']
    assert gray.shape == (6, 9) and np.array_equal(gray, data[..., 1] >> 4)
    # a grey 16-bit image read in colour: three equal channels, as cv2 does for 8-bit
    assert np.array_equal(load(tmp_path / f'g.{ext}')['img'], np.repeat((data[..., 1] >> 4)[..., None], 3, 2))
    # 'unchanged' keeps mmcv's raw reading
    assert np.array_equal(load(tmp_path / f'a.{ext}', color_type='unchanged')['img'], data)


def test_auto_follows_the_data_and_an_explicit_depth_is_checked(tmp_path):
    data = (twelve_bit() >> 2)                      # 10-bit data, maximum 1023
    cv2.imwrite(str(tmp_path / 'a.png'), data)
    assert np.array_equal(load(tmp_path / 'a.png')['img'], data >> 2)
    assert np.array_equal(load(tmp_path / 'a.png', bit_depth=12)['img'], data >> 4)
    with pytest.raises(ImageBitDepthError, match=r'a\.png: values up to 1023 do not fit bit_depth=9'):
        load(tmp_path / 'a.png', bit_depth=9)
    low = np.full((4, 4, 3), 200, np.uint16)         # 8-bit values in a 16-bit file: kept as they are
    cv2.imwrite(str(tmp_path / 'low.png'), low)
    assert np.array_equal(load(tmp_path / 'low.png')['img'], low.astype(np.uint8))


def test_refuse_says_how_to_convert(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), twelve_bit())
    with pytest.raises(ImageBitDepthError) as err:
        load(tmp_path / 'a.png', bit_depth='refuse', ignore_empty=True)     # ignore_empty does not hide it
    msg = str(err.value)
    assert str(tmp_path / 'a.png') in msg and '16-bit image (values up to 4095: 12-bit data)' in msg
    assert '>> 4' in msg and "bit_depth='auto'" in msg and 'bit_depth=12' in msg
    cv2.imwrite(str(tmp_path / 'b.png'), np.zeros((4, 4, 3), np.uint8))
    assert load(tmp_path / 'b.png', bit_depth='refuse')['img'].shape == (4, 4, 3)    # 8-bit: loaded


@pytest.mark.parametrize('bad', ['12', 7, 17, 'none', True, 12.0])
def test_invalid_bit_depth_is_refused(bad):
    with pytest.raises(ValueError, match='bit_depth must be'):
        TRANSFORMS.build(dict(type='LoadImageFromFileBitDepth', bit_depth=bad))
    with pytest.raises(ValueError, match='bit_depth must be'):
        decode_image(b'', bit_depth=bad)


def test_repr_and_undecodable_file(tmp_path):
    t = TRANSFORMS.build(dict(type='LoadImageFromFileBitDepth', bit_depth=12))
    assert repr(t).endswith("backend_args=None, bit_depth=12)")
    (tmp_path / 'x.png').write_bytes(b'not a png')
    with pytest.raises(AssertionError, match='failed to load image'):
        t(dict(img_path=str(tmp_path / 'x.png')))
    assert TRANSFORMS.build(dict(type='LoadImageFromFileBitDepth', ignore_empty=True))(
        dict(img_path=str(tmp_path / 'missing.png'))) is None
