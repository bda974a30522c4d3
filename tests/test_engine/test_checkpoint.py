"""Finding the checkpoint to resume from: the newest intact one."""
import os

import pytest
import torch

import visiondiv.engine.checkpoint as checkpoint_module
from visiondiv.engine import find_resumable_checkpoint, is_intact_checkpoint


@pytest.fixture
def warnings_logged(monkeypatch):
    messages = []
    monkeypatch.setattr(checkpoint_module, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


@pytest.mark.parametrize('zip_format', [True, False])
def test_is_intact_checkpoint(tmp_path, zip_format):
    path = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': {'w': torch.arange(1000.)}}, path, _use_new_zipfile_serialization=zip_format)
    assert is_intact_checkpoint(path)
    truncate(path, keep=0.9)
    assert not is_intact_checkpoint(path)
    open(path, 'wb').close()
    assert not is_intact_checkpoint(path)
    assert not is_intact_checkpoint(str(tmp_path / 'missing.pth'))


def work_dir_with(tmp_path, epochs, last):
    """epoch_<n>.pth for ``epochs`` (modification times in that order) and last_checkpoint naming ``last``."""
    for i, n in enumerate(epochs):
        path = tmp_path / f'epoch_{n}.pth'
        torch.save({'meta': {'epoch': n}}, str(path))
        os.utime(path, (1000 + i, 1000 + i))
    if last is not None:
        (tmp_path / 'last_checkpoint').write_text(last)
    return str(tmp_path)


def test_resume_uses_last_checkpoint_when_intact(tmp_path, warnings_logged):
    work = work_dir_with(tmp_path, [1, 2, 3], last=str(tmp_path / 'epoch_2.pth'))
    assert find_resumable_checkpoint(work) == str(tmp_path / 'epoch_2.pth')   # what the hook wrote, not newest
    assert warnings_logged == []
    assert find_resumable_checkpoint(str(tmp_path / 'empty')) is None


def test_resume_falls_back_from_truncated_last_checkpoint(tmp_path, warnings_logged):
    work = work_dir_with(tmp_path, [1, 2, 3], last=str(tmp_path / 'epoch_3.pth'))
    truncate(tmp_path / 'epoch_3.pth')
    assert find_resumable_checkpoint(work) == str(tmp_path / 'epoch_2.pth')
    assert any(f'names {tmp_path / "epoch_3.pth"}, which is truncated' in m for m in warnings_logged)
    assert any(f'resuming from {tmp_path / "epoch_2.pth"} instead' in m for m in warnings_logged)
    # every checkpoint truncated: nothing to resume
    for n in (1, 2):
        truncate(tmp_path / f'epoch_{n}.pth')
    assert find_resumable_checkpoint(work) is None


@pytest.mark.parametrize('content', ['', 'moved'])
def test_resume_falls_back_from_empty_or_dangling_last_checkpoint(tmp_path, warnings_logged, content):
    """CheckpointHook rewrites last_checkpoint in place (an empty file if killed then); a moved work dir
    leaves it naming the old place."""
    last = '' if content == '' else '/old/place/epoch_2.pth'
    work = work_dir_with(tmp_path, [2, 1], last=last)     # epoch_1 written last (a restarted run)
    assert find_resumable_checkpoint(work) == str(tmp_path / 'epoch_1.pth')
    assert any(('is empty' if content == '' else 'names /old/place/epoch_2.pth, which is missing') in m
               for m in warnings_logged)
