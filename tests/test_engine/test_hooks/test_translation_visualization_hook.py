import os
import uuid
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from mmengine.structures import BaseDataElement
from mmengine.visualization import Visualizer
from scipy import ndimage

from visiondiv.engine.hooks.translation_visualization_hook import HEADER_HEIGHT
from visiondiv.models.data_preprocessors import TranslationDataPreprocessor
from visiondiv.registry import HOOKS

H, W = 24, 20


class StubTranslator(nn.Module):
    """fake_mr = -img_ct and rec_ct = img_ct / 2 in [-1, 1]: known tiles; no mask output (taken from inputs)."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = TranslationDataPreprocessor()
        self.modes_seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.modes_seen.append((mode, self.training, torch.is_grad_enabled()))
        x = inputs['img_ct']
        return dict(img_ct=x, fake_mr=-x, rec_ct=x / 2, img_mr=inputs['img_mr'])


def make_batch(n=6):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:H, :W]
    items, levels, masks = [], [], []
    for i in range(n):
        k = rng.integers(0, 256, (H, W))
        mask = ((yy - 10 - i % 3) ** 2 + (xx - 9) ** 2 <= (3 + i) ** 2) & (yy > 2) & (yy < H - 3) & (xx > 2) & \
            (xx < W - 3)
        items.append(dict(inputs=dict(img_ct=torch.from_numpy(k[None] / 255.0).float(),
                                      img_mr=torch.zeros(1, H, W), mask_ct=torch.from_numpy(mask[None]).float()),
                          data_samples=BaseDataElement(metainfo=dict(slice_idx_ct=i))))
        levels.append(k)
        masks.append(mask)
    return pseudo_collate(items), levels, masks


def runner_at(model, it, max_iters, tmp_path):
    vis = Visualizer(name=f'vis_{uuid.uuid4().hex}', vis_backends=[dict(type='LocalVisBackend')],
                     save_dir=str(tmp_path))
    return SimpleNamespace(model=model, iter=it, max_iters=max_iters, visualizer=vis)


def test_grid_size_values_and_contours(tmp_path):
    batch, levels, masks = make_batch()
    model = StubTranslator().train()
    hook = HOOKS.build(dict(type='TranslationVisualizationHook', interval=2, num_samples=4, scale=1))
    for it in range(5):                                      # writes after iterations 2, 4 and 5 (the last)
        hook.after_train_iter(runner_at(model, it, 5, tmp_path), it, batch)
    assert sorted(os.listdir(tmp_path / 'vis_data' / 'vis_image')) == [f'translation_{s}.png' for s in (2, 4, 5)]
    assert model.training and model.modes_seen == [('tensor', False, False)] * 3
    grid = cv2.imread(str(tmp_path / 'vis_data' / 'vis_image' / 'translation_4.png'))[..., ::-1]      # BGR -> RGB
    assert grid.shape == (HEADER_HEIGHT + 4 * H, 3 * W, 3)
    assert all(grid[:HEADER_HEIGHT, j * W:(j + 1) * W].max() > 100 for j in range(3))   # a name on each column
    closed_form = {'img_ct': lambda k: k, 'fake_mr': lambda k: 255 - k,          # 255 * (1 - x)
                   'rec_ct': lambda k: np.rint(k / 2 + 63.75)}                    # 255 * ((x - 0.5) / 2 + 0.5)
    for i in range(4):
        boundary = masks[i] & ~ndimage.binary_erosion(masks[i])                     # 4-neighbour inner boundary
        for j, key in enumerate(('img_ct', 'fake_mr', 'rec_ct')):
            tile = grid[HEADER_HEIGHT + i * H:HEADER_HEIGHT + (i + 1) * H, j * W:(j + 1) * W].astype(int)
            red = (tile[..., 0] == 255) & (tile[..., 1] == 0) & (tile[..., 2] == 0)
            np.testing.assert_array_equal(red, boundary)
            expected = closed_form[key](levels[i])
            np.testing.assert_array_equal(tile[~red], np.repeat(expected[~red][:, None], 3, 1))


def test_scale_mask_from_inputs_and_errors(tmp_path):
    batch, _, _ = make_batch(3)
    model = StubTranslator().eval()
    hook = HOOKS.build(dict(type='TranslationVisualizationHook', keys=('img_ct', 'fake_mr'), num_samples=8,
                            scale=2, mask_key=None))
    grid = hook.render(model, batch)
    assert grid.shape == (HEADER_HEIGHT + 3 * 2 * H, 2 * 2 * W, 3) and grid.dtype == np.uint8
    # nearest-neighbour upscaling: each pixel of the img_ct tile of row 0 becomes a 2 x 2 block
    tile = grid[HEADER_HEIGHT:HEADER_HEIGHT + 2 * H, :2 * W, 1]
    np.testing.assert_array_equal(tile[::2, ::2], tile[1::2, 1::2])
    auto = HOOKS.build(dict(type='TranslationVisualizationHook', keys=('img_ct',))).render(model, batch)
    assert auto.shape[1] == 4 * W                                 # smallest scale with 4 * 20 >= 64 px
    assert not model.training                                    # mode restored (was eval)
    hook = HOOKS.build(dict(type='TranslationVisualizationHook', keys=('img_ct', 'fake_pet')))
    with pytest.raises(KeyError, match=r"\['fake_pet'\] are not among the model outputs \['fake_mr', 'img_ct', "):
        hook.render(model, batch)
    hook = HOOKS.build(dict(type='TranslationVisualizationHook', mask_key='mask_mr'))
    with pytest.raises(KeyError, match=r"mask_key 'mask_mr' is neither a model output"):
        hook.render(model, batch)
    with pytest.raises(ValueError, match='interval must be an int >= 1'):
        HOOKS.build(dict(type='TranslationVisualizationHook', interval=0))
    with pytest.raises(ValueError, match='scale must be an int >= 1'):
        HOOKS.build(dict(type='TranslationVisualizationHook', scale=0))
