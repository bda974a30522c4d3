"""Data preprocessor of generalized category discovery: multi-view image batches, normalised per channel."""
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from visiondiv.registry import MODELS
from .utils import stack_batch


@MODELS.register_module()
class GCDDataPreprocessor(BaseDataPreprocessor):
    """Stack ``PackGCDInputs`` items (V, C, H, W) to (B, V, C, H, W) float32 on the model's device, normalised.

    Args:
        mean (Sequence[float]): Per-channel mean subtracted (in the pixel scale of the inputs, e.g. 0-255); one
            value or C, finite. Defaults to ``(0.0, )``.
        std (Sequence[float]): Per-channel divisor, one value or C, finite and > 0. Defaults to ``(255.0, )``
            (so 0-255 images map to [0, 1]).
        bgr_to_rgb (bool): Reverse the channel order first (images loaded by mmcv's ``LoadImageFromFile`` are
            BGR). Defaults to False.
        non_blocking (bool): Asynchronous host-to-device copies. Defaults to False.

    Raises:
        ValueError: If ``mean`` is not finite or ``std`` is not finite and > 0; in ``forward``, if their
            lengths fit neither 1 nor the images' channels.

    Items of different shapes, and NaN / inf values, are refused.
    """

    def __init__(self, mean: Sequence[float] = (0.0, ), std: Sequence[float] = (255.0, ), bgr_to_rgb: bool = False,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if not (torch.isfinite(mean_t).all() and torch.isfinite(std_t).all() and (std_t > 0).all()):
            raise ValueError(f'GCDDataPreprocessor: mean must be finite and std finite and > 0, got mean={mean}, '
                             f'std={std}')
        self.register_buffer('mean', mean_t.view(1, 1, -1, 1, 1), persistent=False)
        self.register_buffer('std', std_t.view(1, 1, -1, 1, 1), persistent=False)
        self.bgr_to_rgb = bgr_to_rgb

    def forward(self, data: dict, training: bool = False) -> dict:
        """``dict(inputs=list of (V, C, H, W), data_samples=list)`` -> inputs (B, V, C, H, W)."""
        batch = stack_batch(data['inputs'], 'B, V, C, H, W', 'GCDDataPreprocessor', 'the batch', self.device,
                            self._non_blocking)
        channels = batch.size(2)
        if self.mean.numel() not in (1, channels) or self.std.numel() not in (1, channels):
            raise ValueError(f'GCDDataPreprocessor: mean/std have {self.mean.numel()}/{self.std.numel()} values for '
                             f'{channels}-channel images')
        if self.bgr_to_rgb:
            batch = batch.flip(2)
        batch = (batch - self.mean) / self.std
        samples = data.get('data_samples')
        return dict(inputs=batch, data_samples=self.cast_data(samples) if samples is not None else None)
