"""Data preprocessor of image classification (mmpretrain's ``ClsDataPreprocessor``: mean / std / to_rgb)."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import BaseDataElement

from visiondiv.registry import MODELS
from visiondiv.structures import format_label
from .utils import stack_batch


@MODELS.register_module()
class ClsDataPreprocessor(BaseDataPreprocessor):
    """Stack ``PackClsInputs`` items (C, H, W) to a float32 (N, C, H, W) batch on the model's device, normalised.

    ``(batch[:, ::-1] if to_rgb else batch) - mean) / std``, as mmpretrain's ``ClsDataPreprocessor`` (no padding,
    no batch augments). The ``gt_label`` of each data sample, when present, is gathered and checked: it must be one
    integer class index (stored back as a 0-d ``torch.long`` tensor), and in ``0 .. num_classes - 1`` when
    ``num_classes`` is given. The heads gather the labels into one (N, ) tensor.

    Args:
        mean (Sequence[float], optional): Per-channel mean subtracted (in the pixel scale of the inputs, e.g.
            0-255); one value or C, finite. None with ``std`` None: no normalisation. Defaults to None.
        std (Sequence[float], optional): Per-channel divisor, one value or C, finite and > 0. Defaults to None.
        to_rgb (bool): Reverse the channel order first (mmcv's ``LoadImageFromFile`` gives BGR; the CIFAR
            readers give RGB, so False for them). Defaults to False.
        num_classes (int, optional): When given, a ``gt_label`` outside ``0 .. num_classes - 1`` is refused
            here (the heads check it again). Defaults to None.
        non_blocking (bool): Asynchronous host-to-device copies. Defaults to False.

    Raises:
        ValueError: If only one of ``mean`` / ``std`` is given, ``mean`` is not finite or ``std`` not finite and
            > 0, or ``num_classes`` is not a positive int; in ``forward``, if the images differ in shape, are not
            (C, H, W), hold NaN / inf, have a channel count that fits neither 1 nor ``mean``'s length, or a
            ``gt_label`` is not a class index (named ``gt_label``).
    """

    def __init__(self, mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False, num_classes: Optional[int] = None, non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('ClsDataPreprocessor: give both mean and std, or neither')
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError(f'ClsDataPreprocessor: num_classes must be a positive int, got {num_classes!r}')
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
            std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
            if not (torch.isfinite(mean_t).all() and torch.isfinite(std_t).all() and (std_t > 0).all()):
                raise ValueError(f'ClsDataPreprocessor: mean must be finite and std finite and > 0, got mean={mean}, '
                                 f'std={std}')
            self.register_buffer('mean', mean_t.view(1, -1, 1, 1), persistent=False)
            self.register_buffer('std', std_t.view(1, -1, 1, 1), persistent=False)
        self.to_rgb = to_rgb
        self.num_classes = num_classes

    def _check_labels(self, samples: List[BaseDataElement]) -> None:
        for i, sample in enumerate(samples):
            if not isinstance(sample, BaseDataElement) or 'gt_label' not in sample:
                continue
            try:
                label = format_label(sample.gt_label, 'gt_label')
            except ValueError as err:
                raise ValueError(f'ClsDataPreprocessor: data sample {i}: {err}') from None
            if label < 0 or (self.num_classes is not None and label >= self.num_classes):
                valid = 'a non-negative index' if self.num_classes is None else \
                    f'in 0..{self.num_classes - 1} (num_classes={self.num_classes})'
                raise ValueError(f'ClsDataPreprocessor: data sample {i}: gt_label {int(label)} must be {valid}')
            sample.gt_label = label

    def forward(self, data: dict, training: bool = False) -> dict:
        """``dict(inputs=list of (C, H, W) or (N, C, H, W), data_samples=list)`` -> inputs (N, C, H, W) float32.

        Args:
            data (dict): a collated batch (``pseudo_collate`` of ``PackClsInputs`` items).
            training (bool): unused (no batch augments). Defaults to False.

        Returns:
            dict: ``inputs`` (N, C, H, W) float32 on the model's device and ``data_samples`` (moved there too).
        """
        batch = stack_batch(data['inputs'], 'N, C, H, W', 'ClsDataPreprocessor', 'the batch', self.device,
                            self._non_blocking)
        if self.to_rgb:
            if batch.size(1) != 3:
                raise ValueError(f'ClsDataPreprocessor: to_rgb needs 3-channel images, got {batch.size(1)} channels')
            batch = batch.flip(1)
        if self._enable_normalize:
            channels = batch.size(1)
            if self.mean.numel() not in (1, channels) or self.std.numel() not in (1, channels):
                raise ValueError(f'ClsDataPreprocessor: mean/std have {self.mean.numel()}/{self.std.numel()} values '
                                 f'for {channels}-channel images')
            batch = (batch - self.mean) / self.std
        samples = data.get('data_samples')
        if samples is not None:
            self._check_labels(list(samples))
            samples = self.cast_data(samples)
        return dict(inputs=batch, data_samples=samples)
