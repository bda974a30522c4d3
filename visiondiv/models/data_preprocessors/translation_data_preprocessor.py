"""Data preprocessor of image-to-image translation: stack, move to the device, map [0, 1] images to [-1, 1]."""
import math
from typing import Dict, List, Optional, Sequence, Union

from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from visiondiv.registry import MODELS
from .utils import stack_batch


@MODELS.register_module()
class TranslationDataPreprocessor(BaseDataPreprocessor):
    """Stack every ``inputs`` key to (N, C, H, W) on the model's device; ``img_*`` keys become (x - mean) / std.

    With the defaults, images in [0, 1] (``PackTranslationInputs``) map to [-1, 1], the range of a tanh
    generator; ``mask_*`` keys are stacked unchanged. :meth:`destruct` maps generator outputs back.

    Args:
        mean (float): Subtracted from ``img_*`` keys; finite. Defaults to 0.5.
        std (float): Divisor of ``img_*`` keys; finite and > 0. Defaults to 0.5.
        data_keys (Sequence[str], optional): The ``inputs`` keys to keep (each must be present);
            None keeps all. Defaults to None.
        non_blocking (bool): Asynchronous host-to-device copies. Defaults to False.

    Raises:
        ValueError: If ``mean`` is not finite or ``std`` is not finite and > 0.

    Errors name the key: a key that is neither ``img_*`` nor ``mask_*``, a missing ``data_keys`` entry,
    items of different shapes, NaN or inf values.
    """

    def __init__(self, mean: float = 0.5, std: float = 0.5, data_keys: Optional[Sequence[str]] = None,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
            raise ValueError(f'TranslationDataPreprocessor: mean must be finite and std finite and > 0, '
                             f'got mean={mean}, std={std}')
        self.mean, self.std = float(mean), float(std)
        self.data_keys = None if data_keys is None else tuple(data_keys)

    def forward(self, data: dict, training: bool = False) -> dict:
        """``dict(inputs=dict key -> (N, C, H, W), data_samples=list)`` from a collated batch."""
        inputs: Dict[str, Union[Tensor, List[Tensor]]] = data['inputs']
        keys = self.data_keys if self.data_keys is not None else tuple(inputs)
        out = {}
        for key in keys:
            if key not in inputs:
                raise KeyError(f'TranslationDataPreprocessor: data key {key!r} is not in the inputs; '
                               f'present: {sorted(inputs)}')
            if not key.startswith(('img_', 'mask_')):
                raise ValueError(f"TranslationDataPreprocessor: input key {key!r} must start with 'img_' (image, "
                                 "normalised) or 'mask_' (mask, kept as it is)")
            batch = stack_batch(inputs[key], 'N, C, H, W', 'TranslationDataPreprocessor', repr(key), self.device,
                                self._non_blocking)
            out[key] = (batch - self.mean) / self.std if key.startswith('img_') else batch
        samples = data.get('data_samples')
        return dict(inputs=out, data_samples=self.cast_data(samples) if samples is not None else None)

    def destruct(self, tensor: Tensor) -> Tensor:
        """Inverse of the image normalisation, clamped: a [-1, 1] generator output -> [0, 1]."""
        return (tensor * self.std + self.mean).clamp(0, 1)
