"""The data sample of image classification (mmpretrain's ``DataSample`` for one label per image)."""
import numbers
from typing import Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement
from torch import Tensor

LabelType = Union[int, np.integer, Tensor, np.ndarray]


def format_label(value: LabelType, key: str = 'gt_label') -> Tensor:
    """One class index as a 0-d ``torch.long`` tensor (the layout of ``PackGCDInputs`` / ``PackClsInputs``).

    Args:
        value (int | numpy integer | Tensor | ndarray): the index, or a one-element integer tensor / array
            (mmpretrain stores ``(1, )`` tensors; they are accepted and reshaped).
        key (str): the field's name, for the error message. Defaults to ``'gt_label'``.

    Returns:
        Tensor: a 0-d ``torch.long`` tensor (on ``value``'s device when it is a tensor).

    Raises:
        ValueError: naming ``key`` when ``value`` is a bool, not an integer, or not exactly one element.
    """
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise ValueError(f'{key} must be one integer class index, got a {value.dtype} tensor of shape '
                             f'{tuple(value.shape)}')
        return value.reshape(()).long()
    if isinstance(value, np.ndarray):
        if value.size != 1 or not np.issubdtype(value.dtype, np.integer):
            raise ValueError(f'{key} must be one integer class index, got a {value.dtype} array of shape '
                             f'{value.shape}')
        return torch.tensor(int(value.reshape(())), dtype=torch.long)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f'{key} must be one integer class index, got {value!r}')
    return torch.tensor(int(value), dtype=torch.long)


class ClsDataSample(BaseDataElement):
    """A ``BaseDataElement`` with the fields of single-label classification.

    Data fields (all optional):

    * ``gt_label``: 0-d ``torch.long`` tensor, the class index (set by ``PackClsInputs``);
    * ``pred_label``: 0-d ``torch.long`` tensor, the predicted class (``LinearClsHead.predict``);
    * ``pred_score``: (num_classes, ) float tensor, the softmax scores.

    The heads and the ``Accuracy`` metric read these fields from any ``BaseDataElement`` (e.g. the samples of
    ``PackGCDInputs``); this class only adds mmpretrain's setters.

    Args:
        metainfo (dict, optional): the sample's meta information. Defaults to None.
        **kwargs: data fields, as ``BaseDataElement``'s.
    """

    def set_gt_label(self, value: LabelType) -> 'ClsDataSample':
        """Set ``gt_label`` (see :func:`format_label`).

        Args:
            value (int | numpy integer | Tensor | ndarray): the class index.

        Returns:
            ClsDataSample: self.

        Raises:
            ValueError: naming ``gt_label`` when ``value`` is not one integer.
        """
        self.set_field(format_label(value, 'gt_label'), 'gt_label', dtype=Tensor)
        return self

    def set_pred_label(self, value: LabelType) -> 'ClsDataSample':
        """Set ``pred_label`` (see :func:`format_label`).

        Args:
            value (int | numpy integer | Tensor | ndarray): the predicted class index.

        Returns:
            ClsDataSample: self.

        Raises:
            ValueError: naming ``pred_label`` when ``value`` is not one integer.
        """
        self.set_field(format_label(value, 'pred_label'), 'pred_label', dtype=Tensor)
        return self

    def set_pred_score(self, value: Tensor) -> 'ClsDataSample':
        """Set ``pred_score``, the (num_classes, ) scores.

        Args:
            value (Tensor): the scores of one sample, 1-D.

        Returns:
            ClsDataSample: self.

        Raises:
            ValueError: when ``value`` is not a 1-D tensor.
        """
        if not isinstance(value, Tensor) or value.dim() != 1:
            raise ValueError(f'pred_score must be a 1-D (num_classes, ) tensor, got '
                             f'{getattr(value, "shape", type(value).__name__)}')
        self.set_field(value, 'pred_score', dtype=Tensor)
        return self
