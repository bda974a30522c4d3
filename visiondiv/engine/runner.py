"""A Runner whose checkpoints are written atomically."""
import os
import os.path as osp
from unittest import mock

import mmengine.runner.runner as mmengine_runner
import torch
from mmengine.runner import Runner

from visiondiv.registry import RUNNERS

# mmengine's writer, kept before any patching, for non-local storage
_MMENGINE_SAVE = mmengine_runner.save_checkpoint


def atomic_save_checkpoint(checkpoint: dict, filename: str, *args, **kwargs) -> None:
    """Write a local checkpoint to a temporary file, flush it to disk, then rename it into place.

    A run killed mid-write leaves the previous checkpoint intact instead of a
    truncated file that ``--resume`` would then fail on. Non-local paths
    (``s3://``...) go through mmengine's own writer.
    """
    if '://' in str(filename):
        return _MMENGINE_SAVE(checkpoint, filename, *args, **kwargs)
    filename = str(filename)
    os.makedirs(osp.dirname(osp.abspath(filename)), exist_ok=True)
    tmp = f'{filename}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


@RUNNERS.register_module()
class AtomicCheckpointRunner(Runner):
    """mmengine's Runner, except that checkpoints are written atomically (temp file + rename)."""

    def save_checkpoint(self, *args, **kwargs) -> None:
        with mock.patch.object(mmengine_runner, 'save_checkpoint', atomic_save_checkpoint):
            super().save_checkpoint(*args, **kwargs)
