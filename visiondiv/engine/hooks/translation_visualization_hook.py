"""A hook that writes a PNG grid of a translator's inputs, translations and reconstructions during training."""
from typing import Any, Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from visiondiv.registry import HOOKS

#: height (px) of the strip above the grid that names each column
HEADER_HEIGHT = 20
#: narrowest tile (px) of the automatic ``scale``, wide enough for a column name
MIN_TILE_WIDTH = 64
#: contour colour (RGB)
RED = (255, 0, 0)


def _first(batch: Any, n: int) -> Any:
    """The first ``n`` items of every list / tensor in a collated batch."""
    if isinstance(batch, dict):
        return {k: _first(v, n) for k, v in batch.items()}
    if isinstance(batch, (list, tuple, torch.Tensor)):
        return batch[:n]
    return batch


def _header(names: Sequence[str], tile_w: int) -> np.ndarray:
    font, cells = cv2.FONT_HERSHEY_SIMPLEX, []
    for name in names:
        cell = np.zeros((HEADER_HEIGHT, tile_w, 3), np.uint8)       # one cell per column clips its name
        scale = 0.45
        while scale > 0.25 and cv2.getTextSize(name, font, scale, 1)[0][0] > tile_w - 4:
            scale -= 0.05                                           # shrink long names to their column
        cv2.putText(cell, name, (2, HEADER_HEIGHT - 6), font, scale, (255, 255, 255), 1, cv2.LINE_AA)
        cells.append(cell)
    return np.concatenate(cells, axis=1)


def make_translation_grid(images: Dict[str, np.ndarray], keys: Sequence[str], masks: Optional[np.ndarray] = None,
                          scale: Optional[int] = None) -> np.ndarray:
    """RGB uint8 grid: one row per sample, one column per key (named in a header strip of ``HEADER_HEIGHT`` px).

    Tile values are ``round(255 * v)``, ``v`` clipped to [0, 1].

    Args:
        images (Dict[str, np.ndarray]): key -> (N, H, W) gray values in [0, 1]; N, H, W are those of
            ``images[keys[0]]``.
        keys (Sequence[str]): the columns, in order.
        masks (np.ndarray, optional): (N, H, W) 0/1; the outer contour of each row's mask is drawn in red
            on every tile of the row. None draws none. Defaults to None.
        scale (int, optional): integer nearest-neighbour upscaling of every tile; None: the smallest making
            tiles at least ``MIN_TILE_WIDTH`` px wide (small slices and their column names stay readable).
            Defaults to None.

    Returns:
        np.ndarray: uint8 (HEADER_HEIGHT + N * H * scale, len(keys) * W * scale, 3) RGB image.
    """
    n, h, w = images[keys[0]].shape
    if scale is None:
        scale = max(1, -(-MIN_TILE_WIDTH // w))
    rows = []
    for i in range(n):
        contours = None
        if masks is not None:
            mask = np.kron(masks[i].astype(np.uint8), np.ones((scale, scale), np.uint8))
            contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0]
        tiles = []
        for key in keys:
            gray = np.rint(np.clip(images[key][i], 0, 1) * 255).astype(np.uint8)
            tile = np.ascontiguousarray(np.repeat(np.kron(gray, np.ones((scale, scale), np.uint8))[..., None], 3, 2))
            if contours:
                cv2.drawContours(tile, contours, -1, RED, 1)
            tiles.append(tile)
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate([_header(keys, w * scale)] + rows, axis=0)


@HOOKS.register_module()
class TranslationVisualizationHook(Hook):
    """Every ``interval`` training iterations (and after the last), save a grid of the model's translations.

    The first ``num_samples`` items of the current batch go through ``model.data_preprocessor`` and
    ``model(**data, mode='tensor')`` (a dict of (N, 1, H, W) images in [-1, 1], e.g. CycleGAN's
    ``img_ct``, ``fake_mr``, ``rec_ct``) in eval mode without gradients; the columns ``keys`` are mapped
    to [0, 1] by the preprocessor's ``destruct`` and written as one PNG through
    ``runner.visualizer.add_image('translation', grid, step=iteration)`` (LocalVisBackend:
    ``<work_dir>/<timestamp>/vis_data/vis_image/translation_<iteration>.png``).

    Only the main process writes.

    Args:
        interval (int): training iterations between two grids, >= 1. Defaults to 200.
        keys (Sequence[str]): model outputs shown, one column each (not empty).
            Defaults to ``('img_ct', 'fake_mr', 'rec_ct')``.
        mask_key (str, optional): the mask (model output or preprocessed input) whose contour is drawn in
            red on every tile of its row; None draws none. Defaults to ``'mask_ct'``.
        num_samples (int): rows (at most the batch size), >= 1. Defaults to 4.
        scale (int, optional): integer upscaling of the tiles, >= 1; None: at least ``MIN_TILE_WIDTH`` px wide.
            Defaults to None.

    Raises:
        ValueError: ``interval``, ``num_samples`` or ``scale`` not an int >= 1, or ``keys`` empty or a string.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 200, keys: Sequence[str] = ('img_ct', 'fake_mr', 'rec_ct'),
                 mask_key: Optional[str] = 'mask_ct', num_samples: int = 4, scale: Optional[int] = None) -> None:
        for name, value in (('interval', interval), ('num_samples', num_samples), ('scale', scale)):
            if (value is not None or name != 'scale') and (not isinstance(value, int) or value < 1):
                raise ValueError(f'TranslationVisualizationHook: {name} must be an int >= 1, got {value!r}')
        if isinstance(keys, str) or not keys:
            raise ValueError(f'TranslationVisualizationHook: keys must be a non-empty sequence of names, got {keys!r}')
        self.interval, self.keys, self.mask_key = interval, tuple(keys), mask_key
        self.num_samples, self.scale = num_samples, scale

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if data_batch is None or not is_main_process():
            return
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            grid = self.render(runner.model, data_batch)
            runner.visualizer.add_image('translation', grid, step=runner.iter + 1)

    @torch.no_grad()
    def render(self, model: torch.nn.Module, data_batch: dict) -> np.ndarray:
        """The RGB uint8 grid of the first ``num_samples`` items of ``data_batch``."""
        model = model.module if is_model_wrapper(model) else model
        preprocessor = model.data_preprocessor
        if not hasattr(preprocessor, 'destruct'):
            raise TypeError('TranslationVisualizationHook: model.data_preprocessor has no destruct() '
                            f'(a {type(preprocessor).__name__}); use TranslationDataPreprocessor')
        was_training = model.training
        model.eval()
        try:
            data = preprocessor(_first(data_batch, self.num_samples), training=False)
            out = model(**data, mode='tensor')
        finally:
            model.train(was_training)
        missing = [k for k in self.keys if k not in out]
        if missing:
            raise KeyError(f'TranslationVisualizationHook: keys {missing} are not among the model outputs '
                           f'{sorted(out)}')
        images = {k: preprocessor.destruct(out[k].float())[:, 0].cpu().numpy() for k in self.keys}
        masks = None
        if self.mask_key is not None:
            source = out if self.mask_key in out else data['inputs']
            if self.mask_key not in source:
                raise KeyError(f'TranslationVisualizationHook: mask_key {self.mask_key!r} is neither a model output '
                               f"{sorted(out)} nor an input {sorted(data['inputs'])}")
            masks = (source[self.mask_key][:, 0] > 0.5).cpu().numpy()
        return make_translation_grid(images, self.keys, masks, self.scale)
