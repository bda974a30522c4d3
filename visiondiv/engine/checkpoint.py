"""Local checkpoint loading under torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine
0.10.7 checkpoints hold numpy arrays and its ``HistoryBuffer`` (the message
hub used by ``--resume``), which need ``getattr`` to unpickle, so they
cannot pass the restricted loader. visiondiv loads local checkpoints as
mmengine did before torch 2.6, i.e. as full pickles: load only checkpoint
files you trust.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location=None) -> dict:
    """Load a local checkpoint (full pickle: trusted files only)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    return torch.load(filename, map_location=map_location, weights_only=False)
