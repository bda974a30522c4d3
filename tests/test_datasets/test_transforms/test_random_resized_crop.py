"""RandomResizedCrop: mmpretrain's / torchvision's area and log-ratio sampling, its fallback, and its arguments."""
import math
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.config import Config

from visiondiv.registry import TRANSFORMS


def image(h, w):
    return (np.arange(h * w * 3, dtype=np.int64).reshape(h, w, 3) % 251).astype(np.uint8)


def hand_box(h, w, area_range=(0.08, 1.0), ratio_range=(3 / 4, 4 / 3), attempts=10):
    """torchvision's get_params, written out again, drawing from np.random in the same order."""
    for _ in range(attempts):
        target = np.random.uniform(area_range[0], area_range[1]) * h * w
        ratio = math.exp(np.random.uniform(math.log(ratio_range[0]), math.log(ratio_range[1])))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1), ch, cw
    if w / h < ratio_range[0]:
        cw, ch = w, int(round(w / ratio_range[0]))
    elif w / h > ratio_range[1]:
        ch, cw = h, int(round(h * ratio_range[1]))
    else:
        ch, cw = h, w
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def test_registered_as_ours():
    crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=224, backend='pillow'))
    assert type(crop).__module__ == 'visiondiv.datasets.transforms.random_resized_crop'
    assert crop.scale == (224, 224) and crop.crop_ratio_range == (0.08, 1.0) and crop.max_attempts == 10
    assert crop.aspect_ratio_range == (0.75, 4 / 3) and crop.interpolation == 'bilinear'


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('h, w', [(60, 80), (300, 200)])
def test_box_matches_the_hand_sampling_for_a_seed(seed, h, w):
    crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=16))
    boxes = []
    np.random.seed(seed)
    for _ in range(20):
        boxes.append(crop.crop_box(h, w))
    np.random.seed(seed)
    assert boxes == [hand_box(h, w) for _ in range(20)]
    for top, left, ch, cw in boxes:
        assert 0 <= top and top + ch <= h and 0 <= left and left + cw <= w
        assert 0.75 - 0.1 <= cw / ch <= 4 / 3 + 0.1


def test_output_is_the_resized_box(tmp_path):
    img = image(60, 80)
    crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=(24, 32)))  # (h, w)
    np.random.seed(3)
    top, left, ch, cw = crop.crop_box(60, 80)
    np.random.seed(3)
    out = crop(dict(img=img.copy()))
    assert out['img'].shape == (24, 32, 3) and out['img_shape'] == (24, 32) and out['img'].dtype == np.uint8
    expected = mmcv.imresize(img[top:top + ch, left:left + cw], (32, 24), interpolation='bilinear')
    assert np.array_equal(out['img'], expected)
    pil = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=7, backend='pillow', interpolation='bicubic'))
    assert pil(dict(img=img.copy()))['img'].shape == (7, 7, 3)
    grey = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=5))(dict(img=np.zeros((9, 9), np.uint8)))
    assert grey['img'].shape == (5, 5)


@pytest.mark.parametrize('h, w, box', [(10, 400, (0, 193, 10, 13)),   # too wide: ratio 4/3, full height
                                       (400, 10, (193, 0, 13, 10)),   # too tall: ratio 3/4, full width
                                       (100, 100, (0, 0, 100, 100))])  # in range: the whole image
def test_fallback_is_the_central_crop_of_the_clamped_ratio(h, w, box):
    crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=8))
    np.random.seed(0)
    if h != w:  # an extreme aspect: no attempt ever fits, every draw ends in the fallback
        for _ in range(20):
            assert crop.crop_box(h, w) == box
    zero = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=8, max_attempts=0))
    assert zero.crop_box(h, w) == box == hand_box(h, w, attempts=0)
    out = zero(dict(img=image(h, w)))
    top, left, ch, cw = box
    assert np.array_equal(out['img'], mmcv.imresize(image(h, w)[top:top + ch, left:left + cw], (8, 8)))


def test_full_area_range_and_fixed_ratio():
    crop = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=4, crop_ratio_range=(1.0, 1.0),
                                 aspect_ratio_range=(1.0, 1.0)))
    np.random.seed(0)
    assert crop.crop_box(50, 50) == (0, 0, 50, 50)


@pytest.mark.parametrize('kwargs, match', [
    (dict(scale=0), 'scale'), (dict(scale=(1, 2, 3)), 'scale'), (dict(scale=True), 'scale'),
    (dict(crop_ratio_range=(1.0, 0.08)), r'crop_ratio_range is reversed'),
    (dict(crop_ratio_range=(0.0, 1.0)), r'crop_ratio_range must be finite and positive'),
    (dict(crop_ratio_range=(-0.5, 1.0)), r'crop_ratio_range must be finite and positive'),
    (dict(crop_ratio_range=0.5), r'crop_ratio_range must be a pair'),
    (dict(aspect_ratio_range=(4 / 3, 3 / 4)), r'aspect_ratio_range is reversed'),
    (dict(aspect_ratio_range=(0, 1)), r'aspect_ratio_range must be finite and positive'),
    (dict(aspect_ratio_range=(1, 2, 3)), r'aspect_ratio_range must be a pair'),
    (dict(max_attempts=-1), 'max_attempts'), (dict(max_attempts=2.5), 'max_attempts'),
    (dict(interpolation='cubic'), 'interpolation'), (dict(backend='torch'), 'backend'),
    (dict(backend='pillow', interpolation='area'), "'area' needs backend='cv2'")])
def test_bad_arguments_name_the_key(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRANSFORMS.build(dict(dict(type='RandomResizedCrop', scale=8), **kwargs))


def test_imagenet_train_pipeline_uses_it():
    """configs/_base_/datasets/imagenet_cls.py: RandomResizedCrop(224, pillow) + flip, as mdistiller trains."""
    root = osp.join(osp.dirname(__file__), '..', '..', '..')
    cfg = Config.fromfile(osp.join(root, 'configs', '_base_', 'datasets', 'imagenet_cls.py'))
    steps = [TRANSFORMS.build(t) for t in cfg.train_pipeline]
    assert [type(t).__name__ for t in steps] == ['LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip',
                                                'PackClsInputs']
    crop = steps[1]
    assert type(crop).__module__ == 'visiondiv.datasets.transforms.random_resized_crop'
    assert (crop.scale, crop.backend, crop.interpolation) == ((224, 224), 'pillow', 'bilinear')
    np.random.seed(0)
    out = steps[2](crop(dict(img=image(300, 500))))
    assert out['img'].shape == (224, 224, 3) and out['img'].dtype == np.uint8
