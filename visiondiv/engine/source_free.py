"""A runner for source-free adaptation that refuses to start when source data is configured."""
from typing import Any, Iterator, Tuple

from visiondiv.registry import RUNNERS
from .runner import AtomicCheckpointRunner

#: top-level keys that would feed the adaptation with source data
_SOURCE_KEYS = ('source_dataloader', 'source_dataset')


def _datasets(node: Any, path: str) -> Iterator[Tuple[str, dict]]:
    if isinstance(node, dict):
        if 'type' in node and ('img_dir' in node or 'label_dir' in node or 'domain' in node
                               or str(node.get('type', '')).endswith('Dataset')):
            yield path, node
        for k, v in node.items():
            yield from _datasets(v, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _datasets(v, f'{path}[{i}]')


def check_source_free(cfg) -> None:
    """Raise if the adaptation config could read source data or labels during training.

    Refused: a ``source_dataloader``/``source_dataset`` key; a training dataset marked
    ``domain='source'``; a training dataset with labels (``label_dir`` not None). Labelled
    *target* data stays allowed for validation and testing.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    for key in _SOURCE_KEYS:
        if key in cfg:
            raise ValueError(f"{source}: source-free adaptation must not configure source data ('{key}')")
    train = cfg.get('train_dataloader')
    if train is None:
        raise ValueError(f"{source}: source-free adaptation needs a train_dataloader of unlabelled target images")
    node = train.to_dict() if hasattr(train, 'to_dict') else train
    for path, ds in _datasets(node, 'train_dataloader'):
        if ds.get('domain') == 'source':
            raise ValueError(f"{source}: '{path}' is a source dataset (domain='source'); "
                             'adaptation must not read source images')
        if ds.get('label_dir', 'labels') is not None and str(ds.get('type', '')).endswith('MedicalSliceDataset'):
            raise ValueError(f"{source}: '{path}.label_dir' must be None: adaptation trains on unlabelled "
                             'target images only')


@RUNNERS.register_module()
class SourceFreeRunner(AtomicCheckpointRunner):
    """``AtomicCheckpointRunner`` that checks the config with :func:`check_source_free` before building."""

    @classmethod
    def from_cfg(cls, cfg) -> 'SourceFreeRunner':
        check_source_free(cfg)
        return super().from_cfg(cfg)
