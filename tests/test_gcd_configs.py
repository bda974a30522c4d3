"""The real-dataset GCD configs (configs/simgcd, configs/legogcd) feed the model what SimGCD's code does.

SimGCD's 'imagenet' transform is torchvision's Resize(256) (shorter side, PIL bicubic), RandomCrop(224),
RandomHorizontalFlip and, for testing, CenterCrop(224); the reference below writes torchvision's semantics out
with PIL. The data path of two configs (in-memory CIFAR-10, file-based CUB with an SSB split json) runs on tiny
generated trees, up to the model's data preprocessor, without building the ViT.
"""
import glob
import json
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from visiondiv.registry import DATASETS, MODELS, TRANSFORMS

ROOT = osp.join(osp.dirname(__file__), '..')
AUG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'gcd_imagenet_aug.py')
MEAN, STD = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])


def torchvision_resize(img: np.ndarray, size: int = 256) -> np.ndarray:
    """torchvision's Resize(size) on a PIL image: shorter side = size, longer side truncated, PIL bicubic."""
    pil = Image.fromarray(img)
    w, h = pil.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    return np.array(pil.resize((size, new_long) if w <= h else (new_long, size), Image.BICUBIC))


def torchvision_center_crop(img: np.ndarray, size: int = 224) -> np.ndarray:
    top, left = int(round((img.shape[0] - size) / 2.0)), int(round((img.shape[1] - size) / 2.0))
    return img[top:top + size, left:left + size]


def run(transforms, img):
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
    for t in transforms:
        results = t(results)
    return results


@pytest.mark.parametrize('hw', [(32, 32), (500, 375), (375, 500), (333, 500), (256, 256)])
def test_test_transform_equals_torchvision(hw):
    """Where torchvision's truncated longer side equals mmcv's rounded one, the test view is identical."""
    cfg = Config.fromfile(AUG)
    img = np.random.default_rng(sum(hw)).integers(0, 256, (*hw, 3), dtype=np.uint8)
    out = run([TRANSFORMS.build(t) for t in cfg.test_view], img.copy())['img']
    np.testing.assert_array_equal(out, torchvision_center_crop(torchvision_resize(img)))


@pytest.mark.parametrize('hw,long_side', [((300, 451), 385), ((1024, 683), 384), ((241, 700), 744)])
def test_resize_rounds_the_longer_side(hw, long_side):
    """The one documented difference: mmcv rounds 256 * long / short (torchvision truncates it)."""
    cfg = Config.fromfile(AUG)
    img = np.zeros((*hw, 3), np.uint8)
    out = run([TRANSFORMS.build(cfg.resize)], img)['img']
    assert min(out.shape[:2]) == 256 and max(out.shape[:2]) == long_side
    assert long_side == int(256 * max(hw) / min(hw) + 0.5) == int(256 * max(hw) / min(hw)) + 1
    assert max(torchvision_resize(img).shape[:2]) == long_side - 1


def test_train_views_are_random_crops_of_the_resized_image():
    """Each of the two views is a 224 crop of the 256-resized image or of its mirror, at any offset."""
    cfg = Config.fromfile(AUG)
    img = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    resized = torchvision_resize(img)          # 256 x 307 (rounded and truncated agree here)
    assert resized.shape == (256, 307, 3)
    np.random.seed(0)
    multi_view = TRANSFORMS.build(dict(type='MultiView', num_views=2, transforms=cfg.train_view))
    found, flips = set(), []
    for _ in range(6):
        views = run([multi_view], img.copy())['img']
        assert len(views) == 2
        for view in views:
            assert view.shape == (224, 224, 3) and view.dtype == np.uint8
            hits = []
            for flip, src in ((False, resized), (True, np.ascontiguousarray(resized[:, ::-1]))):
                # candidate offsets: where the view's top-left 4x4 patch occurs; then compare whole crops
                windows = np.lib.stride_tricks.sliding_window_view(src[:256 - 220, :307 - 220], (4, 4, 3))
                ys, xs = np.nonzero((windows[:, :, 0] == view[:4, :4]).all(axis=(2, 3, 4)))
                hits += [(flip, y, x) for y, x in zip(ys, xs) if np.array_equal(src[y:y + 224, x:x + 224], view)]
            assert len(hits) == 1, 'a view is not a crop of the resized (or mirrored) image'
            found.add(hits[0])
            flips.append(hits[0][0])
    assert len(found) == 12          # 12 different random crops (a fixed crop would give 1)
    assert any(flips) and not all(flips)


def cifar10_tree(root, per_class: int = 4) -> np.ndarray:
    """The official CIFAR-10 python files with ``per_class`` images of each of the 10 classes; labels i % 10."""
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    n = 10 * per_class
    imgs = np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    imgs[0] = (255, 0, 0)                    # sample 0 (class 0): pure red in RGB
    rows = imgs.transpose(0, 3, 1, 2).reshape(n, -1)
    batches = np.array_split(np.arange(n), 5)
    for b, idx in enumerate(batches):
        with open(folder / f'data_batch_{b + 1}', 'wb') as f:
            pickle.dump({'data': rows[idx], 'labels': [int(i % 10) for i in idx]}, f)
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump({'label_names': [f'c{k}' for k in range(10)]}, f)
    return imgs


def check_red(cfg: Config, item: dict) -> None:
    """The model's preprocessor turns a pure red image into ImageNet-normalized (255, 0, 0) RGB."""
    pre = MODELS.build(cfg.model.data_preprocessor)
    batch = pre(dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))['inputs']
    expected = (np.array([255.0, 0.0, 0.0]) - MEAN) / STD
    np.testing.assert_allclose(batch[0, 0].mean(dim=(1, 2)).numpy(), expected, rtol=1e-5)


def test_cifar10_config_data_path(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'simgcd', 'simgcd_dino-vit-b16_200e_cifar10.py'))
    cifar10_tree(tmp_path)
    assert cfg.model.data_preprocessor.bgr_to_rgb is False      # in-memory RGB arrays
    assert (cfg.train_dataloader.batch_size, cfg.train_dataloader.drop_last) == (128, True)
    assert cfg.train_dataloader.sampler.type == 'GCDBalancedSampler'
    assert cfg.test_dataloader.dataset.subset == cfg.val_dataloader.dataset.subset == 'unlabelled'
    sets = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key].dataset.to_dict()
        ds_cfg['dataset']['data_root'] = str(tmp_path)
        ds_cfg['serialize_data'] = False
        sets[key] = DATASETS.build(ds_cfg)
    train, val = sets['train_dataloader'], sets['val_dataloader']
    # 5 known classes x 4 images, half labelled; the other 20 + 10 unlabelled
    assert train.num_known_classes == 5 and len(train) == 40
    assert int(train.labelled_flags.sum()) == 10 and len(val) == 30 and len(sets['test_dataloader']) == 30
    assert not val.labelled_flags.any()
    item = train[0]
    assert tuple(item['inputs'].shape) == (2, 3, 224, 224)
    assert item['data_samples'].labelled and item['data_samples'].old
    assert tuple(val[0]['inputs'].shape) == (1, 3, 224, 224) and not val[0]['data_samples'].labelled
    # sample 0 is pure red in RGB: its views (crops of a uniform image) normalize to red
    check_red(cfg, train[next(i for i in range(len(train)) if train.get_data_info(i)['base_idx'] == 0)])


def cub_tree(root, per_class: int = 2) -> None:
    """CUB_200_2011 files with 4 classes of ``per_class`` training images each: pure red PNGs (BGR on disk)."""
    cub = root / 'CUB_200_2011'
    (cub / 'images').mkdir(parents=True)
    classes, images, labels, split = [], [], [], []
    for c in range(1, 5):
        classes.append(f'{c} {c:03d}.bird{c}')
        for k in range(per_class):
            i = len(images) + 1
            cv2.imwrite(str(cub / 'images' / f'{i}.png'), np.full((30 + i, 40, 3), (0, 0, 255), np.uint8))
            images.append(f'{i} {i}.png')
            labels.append(f'{i} {c}')
            split.append(f'{i} 1')
    for name, lines in (('classes', classes), ('images', images), ('image_class_labels', labels),
                        ('train_test_split', split)):
        (cub / f'{name}.txt').write_text('\n'.join(lines) + '\n')


def test_cub_config_data_path(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'legogcd', 'legogcd_dino-vit-b16_200e_cub.py'))
    assert cfg.model.data_preprocessor.bgr_to_rgb is True        # LoadImageFromFile gives BGR
    cub_tree(tmp_path)
    split = tmp_path / 'cub_osr_splits.json'
    # the SSB form: known classes in their order, unknown ones by difficulty
    split.write_text(json.dumps({'known_classes': [2, 0], 'unknown_classes': {'Easy': [1], 'Hard': [3]}}))
    sets = {}
    for key in ('train_dataloader', 'val_dataloader'):
        ds_cfg = cfg[key].dataset.to_dict()
        assert ds_cfg['split_file'] == 'data/ssb_splits/cub_osr_splits.json'
        ds_cfg.update(split_file=str(split), serialize_data=False)
        ds_cfg['dataset']['data_root'] = str(tmp_path)
        sets[key] = DATASETS.build(ds_cfg)
    train, val = sets['train_dataloader'], sets['val_dataloader']
    assert train.known_classes == ('003.bird3', '001.bird1') and len(train) == 8
    assert int(train.labelled_flags.sum()) == 2 and len(val) == 6
    item = train[0]
    assert tuple(item['inputs'].shape) == (2, 3, 224, 224)
    assert item['data_samples'].labelled and item['data_samples'].gt_label.item() in (0, 1)
    sample = val[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 224, 224)
    check_red(cfg, sample)
    check_red(cfg, dict(inputs=item['inputs'][:1], data_samples=item['data_samples']))


EXPECTED = {   # dataset: (known, all classes, SimGCD memax weight, LegoGCD memax weight, LegoGCD thr)
    'cifar10': (5, 10, 1, 1, 0.95), 'cifar100': (80, 100, 4, 2, 0.85), 'imagenet100': (50, 100, 1, 1, 0.8),
    'cub': (100, 200, 2, 2, 0.7), 'stanford-cars': (98, 196, 1, 1, 0.85), 'fgvc-aircraft': (50, 100, 1, 1, 0.9),
    'herbarium19': (341, 683, 1, 1, 0.7)}


def test_the_official_hyperparameters():
    """Class counts of the official splits, memax weights of SimGCD's / LegoGCD's scripts, LegoGCD's thr."""
    paths = glob.glob(osp.join(ROOT, 'configs', '*gcd', '*_dino-vit-b16_200e_*.py'))
    assert len(paths) == 14
    for path in paths:
        name = osp.splitext(osp.basename(path))[0]
        method, ds = name.split('_')[0], name.rsplit('_', 1)[1]
        known, total, memax_sim, memax_lego, thr = EXPECTED[ds]
        cfg = Config.fromfile(path)
        model = cfg.model
        assert (model.num_known_classes, model.head.num_classes) == (known, total), name
        assert model.loss_me_max.loss_weight == (memax_lego if method == 'legogcd' else memax_sim), name
        assert cfg.optim_wrapper.optimizer.lr == 0.1 and cfg.optim_wrapper.optimizer.weight_decay == 5e-5
        assert cfg.train_cfg.max_epochs == 200 and cfg.train_dataloader.batch_size == 128
        eval_funcs = tuple(cfg.val_evaluator.eval_funcs)
        assert eval_funcs == (('v2', 'v2b') if ds == 'herbarium19' else ('v2', )), name
        if method == 'legogcd':
            assert model.type == 'LegoGCD' and model.loss_ler.thr == thr and model.dual_view_kl_mode == 'correct'
        else:
            assert model.type == 'SimGCD' and 'loss_ler' not in model
