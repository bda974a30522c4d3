import os

import pytest
import torch

from visiondiv.engine import atomic_save_checkpoint, load_from_local


def test_atomic_save_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / 'epoch_1.pth'
    atomic_save_checkpoint({'meta': {'epoch': 1}, 'w': torch.ones(3)}, str(path))
    assert load_from_local(str(path))['meta']['epoch'] == 1

    def crash(obj, f):
        f.write(b'partial')
        raise KeyboardInterrupt   # killed mid-write
    monkeypatch.setattr(torch, 'save', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_save_checkpoint({'meta': {'epoch': 2}}, str(path))
    monkeypatch.undo()
    assert load_from_local(str(path))['meta']['epoch'] == 1       # previous checkpoint intact
    assert os.listdir(tmp_path) == ['epoch_1.pth']                # temp file removed
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        load_from_local(str(tmp_path / 'missing.pth'))
