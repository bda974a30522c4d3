import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from visiondiv.registry import TRANSFORMS

#: the recipes of the README: SimGCD's ImageNet-style train / test transforms (224 crops of a 256 resize)
RESIZE_256 = dict(type='Resize', scale=(100000, 256), keep_ratio=True, interpolation='bicubic', backend='pillow')
IMAGENET_TRAIN = [dict(type='LoadImageFromFile'), RESIZE_256,
                  dict(type='MultiView', num_views=2, transforms=[
                      dict(type='SliceAlbu', transforms=[dict(type='RandomCrop', height=224, width=224),
                                                         dict(type='HorizontalFlip', p=0.5)])]),
                  dict(type='PackGCDInputs')]
IMAGENET_TEST = [dict(type='LoadImageFromFile'), RESIZE_256, dict(type='CenterCrop', crop_size=224),
                 dict(type='PackGCDInputs')]
#: small grey digits: random resized crops (MNIST), pad-and-crop shifts of one pixel (8x8 digits); no flips
MNIST_TRAIN = [dict(type='MultiView', num_views=2, transforms=[
    dict(type='SliceAlbu', transforms=[dict(type='RandomResizedCrop', size=(28, 28), scale=(0.7, 1.0))])]),
    dict(type='PackGCDInputs')]
DIGITS_TRAIN = [dict(type='MultiView', num_views=2, transforms=[
    dict(type='SliceAlbu', transforms=[dict(type='PadIfNeeded', min_height=10, min_width=10),
                                       dict(type='RandomCrop', height=8, width=8)])]),
    dict(type='PackGCDInputs')]


@pytest.fixture
def np_seed():
    state = np.random.get_state()
    np.random.seed(0)
    yield
    np.random.set_state(state)


def pipeline(cfgs):
    from mmcv.transforms import Compose
    return Compose([TRANSFORMS.build(c) for c in cfgs])


def test_views_are_independent_draws(np_seed):
    img = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    mv = TRANSFORMS.build(dict(type='MultiView', num_views=400,
                               transforms=[dict(type='RandomFlip', prob=0.5, direction='horizontal')]))
    views = mv(dict(img=img))['img']
    assert len(views) == 400 and all(v.shape == (3, 4, 1) for v in views)
    flipped = np.array([np.array_equal(v, img[:, ::-1]) for v in views])
    assert all(f or np.array_equal(v, img) for f, v in zip(flipped, views))
    # Binomial(400, 1/2) flips, within 5 sigma (10), and no serial dependence between consecutive views
    assert abs(flipped.sum() - 200) < 5 * 10
    agree = np.mean(flipped[1:] == flipped[:-1])
    assert abs(agree - 0.5) < 5 * np.sqrt(0.25 / 399)


def test_each_view_gets_its_own_copy():
    img = np.zeros((2, 2, 3), np.uint8)

    def paint(results):
        results['img'][0, 0] = 255           # in place
        results['extra'] = 1
        return results
    results = TRANSFORMS.build(dict(type='MultiView', transforms=[paint], num_views=3))(dict(img=img, label=4))
    assert (img == 0).all()                  # the input image is untouched
    assert len(results['img']) == 3 and all(v[0, 0].tolist() == [255] * 3 for v in results['img'])
    assert len({id(v) for v in results['img']}) == 3
    assert results['label'] == 4 and 'extra' not in results     # other keys are the input's


def test_a_dropped_view_drops_the_sample_and_bad_arguments():
    assert TRANSFORMS.build(dict(type='MultiView', transforms=[lambda r: None]))(dict(img=np.zeros((2, 2, 1)))) is None
    with pytest.raises(ValueError, match='num_views must be an int >= 1, got 0'):
        TRANSFORMS.build(dict(type='MultiView', transforms=[], num_views=0))
    with pytest.raises(TypeError, match='transforms must be a list of transform configs'):
        TRANSFORMS.build(dict(type='MultiView', transforms=dict(type='RandomFlip', prob=0.5)))
    with pytest.raises(KeyError, match="MultiView: results has no 'img'"):
        TRANSFORMS.build(dict(type='MultiView', transforms=[]))(dict(img_path='x.png'))


@pytest.mark.parametrize('cfgs, shape', [(MNIST_TRAIN, (28, 28, 1)), (DIGITS_TRAIN, (8, 8, 1))])
def test_small_digit_recipes(np_seed, cfgs, shape):
    img = np.random.randint(0, 256, shape, dtype=np.uint8)
    out = pipeline(cfgs)(dict(img=img, gt_label=3, labelled=True, old=True, sample_idx=0))
    assert out['inputs'].shape == (2, 1) + shape[:2] and str(out['inputs'].dtype) == 'torch.uint8'
    assert int(out['data_samples'].gt_label) == 3


def test_imagenet_recipes_match_simgcds_transforms(tmp_path, np_seed):
    import mmcv
    from PIL import Image
    img = np.random.randint(0, 256, (300, 400, 3), dtype=np.uint8)
    mmcv.imwrite(img, str(tmp_path / 'x.png'))
    # torchvision's Resize(256, BICUBIC) on a PIL image: short side 256, long int(256 * 400 / 300) = 341
    ref = np.asarray(Image.fromarray(img).resize((341, 256), Image.BICUBIC))
    test = pipeline(IMAGENET_TEST)(dict(img_path=str(tmp_path / 'x.png')))
    assert test['inputs'].shape == (1, 3, 224, 224)
    # CenterCrop(224): offsets int(round((256 - 224) / 2)) = 16 and int(round((341 - 224) / 2)) = 58
    np.testing.assert_array_equal(test['inputs'][0].permute(1, 2, 0).numpy(), ref[16:240, 58:282])

    train = pipeline(IMAGENET_TRAIN)(dict(img_path=str(tmp_path / 'x.png')))
    assert train['inputs'].shape == (2, 3, 224, 224)
    for view in train['inputs'].permute(0, 2, 3, 1).numpy():
        # each view is a 224 crop of the resized image, flipped or not: find it by its first row
        hits = []
        for flip in (False, True):
            v = view[:, ::-1] if flip else view
            rows = sliding_window_view(ref[:256 - 223], (224, 3), axis=(1, 2))[:, :, 0]   # (33, 118, 224, 3)
            for y, x in zip(*np.nonzero((rows == v[0]).all(axis=(2, 3)))):
                hits.append(np.array_equal(ref[y:y + 224, x:x + 224], v))
        assert hits.count(True) >= 1
