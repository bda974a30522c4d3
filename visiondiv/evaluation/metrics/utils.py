"""Reading the data samples that mmengine's Evaluator hands to a metric's ``process``."""
from typing import Any

from mmengine.structures import BaseDataElement


def sample_field(sample: Any, key: str, index: int, owner: str) -> Any:
    """``sample[key]`` of a dict (the Evaluator passes ``to_dict()``) or a ``BaseDataElement``.

    Errors start with ``owner`` (the metric) and name the sample's index, the key and the keys it holds.

    Args:
        sample (dict | BaseDataElement): One data sample.
        key (str): The field to read.
        index (int): The sample's index in its batch, for the error message.
        owner (str): The metric's name, which starts the error message.

    Returns:
        Any: ``sample.get(key)``.

    Raises:
        TypeError: ``sample`` is neither a dict nor a ``BaseDataElement``.
        KeyError: ``sample`` has no ``key``.
    """
    if isinstance(sample, BaseDataElement):
        present = sample.all_keys()
    elif isinstance(sample, dict):
        present = list(sample)
    else:
        raise TypeError(f'{owner}: data sample {index} must be a dict or a BaseDataElement, '
                        f'got {type(sample).__name__}')
    if key not in present:
        raise KeyError(f'{owner}: data sample {index} has no {key!r}; it holds {sorted(present)}')
    return sample.get(key)
