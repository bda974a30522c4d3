"""What every visiondiv data preprocessor does to a collated input: stack, check, move to the device."""
from typing import List, Union

import torch
from torch import Tensor


def stack_batch(items: Union[Tensor, List[Tensor]], layout: str, owner: str, what: str, device: torch.device,
                non_blocking: bool = False) -> Tensor:
    """``items`` (a tensor, or a list of tensors of one shape) stacked into a float32 batch on ``device``.

    ``layout`` names the batch's dimensions (e.g. ``'N, C, H, W'``); items of different shapes, another number of
    dimensions, and NaN / inf values are refused with errors that start ``'<owner>: <what> ...'``.

    Args:
        items (Tensor or list[Tensor]): An already stacked batch, or the items of one shape to stack along a
            new first dimension.
        layout (str): Comma-separated names of the batch's dimensions, e.g. ``'N, C, H, W'``; only their
            number is checked.
        owner (str): Name of the caller, the start of every error message (e.g. ``'GCDDataPreprocessor'``).
        what (str): What the items are, for the error messages (e.g. ``'the batch'``, a key's repr).
        device (torch.device): Device the batch is moved to.
        non_blocking (bool): Asynchronous host-to-device copy. Defaults to False.

    Returns:
        Tensor: The float32 batch on ``device``.

    Raises:
        ValueError: If the items differ in shape, the batch does not have as many dimensions as ``layout``
            names, or it holds NaN / inf values.
    """
    if isinstance(items, Tensor):
        batch = items
    else:
        shapes = {tuple(v.shape) for v in items}
        if len(shapes) > 1:
            raise ValueError(f'{owner}: items of {what} differ in shape: {sorted(shapes)}')
        batch = torch.stack(list(items))
    if batch.ndim != len(layout.split(',')):
        raise ValueError(f'{owner}: {what} must stack to ({layout}), got {tuple(batch.shape)}')
    batch = batch.to(device, dtype=torch.float32, non_blocking=non_blocking)
    if not torch.isfinite(batch).all():
        raise ValueError(f'{owner}: {what} holds {int((~torch.isfinite(batch)).sum())} NaN / inf values')
    return batch
