"""The ``atomic_local`` file backend, alone and as the checkpoint writer of our configs."""
import glob
import os
import os.path as osp
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from tests.script_loader import ROOT
from visiondiv.engine import AtomicLocalBackend

ATOMIC = dict(backend='atomic_local')


class Killed(BaseException):
    """Stands for the process being killed (not an Exception: nothing may swallow it)."""


def leftovers(directory):
    """Temporary files the backend left under ``directory`` (``.<name>.<pid>-<id>.tmp``)."""
    return [osp.relpath(osp.join(d, f), directory) for d, _, files in os.walk(directory) for f in files
            if f.endswith('.tmp')]


def test_bytes_and_text_round_trip(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=ATOMIC)
    assert type(backend) is AtomicLocalBackend
    payload = os.urandom(1 << 16)
    path = tmp_path / 'new' / 'dir' / 'blob.bin'      # missing directories are created, as LocalBackend does
    backend.put(payload, path)
    assert backend.get(path) == payload
    backend.put(b'shorter', path)                      # replaced as a whole, no tail of the longer file
    assert path.read_bytes() == b'shorter'
    text = 'épreuve ✓\nline 2'
    backend.put_text(text, str(tmp_path / 'last_checkpoint'))
    assert backend.get_text(str(tmp_path / 'last_checkpoint')) == text
    assert backend.get_text(str(tmp_path / 'last_checkpoint'), encoding='latin-1') == text.encode().decode('latin-1')
    # same permissions as a file written by mmengine's LocalBackend (the temp file is not mkstemp's 0600)
    LocalBackend().put(b'x', tmp_path / 'plain.bin')
    assert os.stat(path).st_mode == os.stat(tmp_path / 'plain.bin').st_mode
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize('fail_at, error', [('fsync', Killed), ('replace', OSError)])
def test_interrupted_put_keeps_previous_file_and_removes_temp(tmp_path, monkeypatch, fail_at, error):
    """Killed after the new bytes went to the temp file, or the rename failing: the old file stays whole."""
    backend = AtomicLocalBackend()
    path = tmp_path / 'epoch_1.pth'
    backend.put(b'complete checkpoint', path)

    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr(os, fail_at, fail)
    with pytest.raises(error):
        backend.put(b'the new, longer checkpoint', path)
    with pytest.raises(error):
        backend.put_text('new text', path)
    monkeypatch.undo()
    assert path.read_bytes() == b'complete checkpoint'
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((out - labels) ** 2).mean())
        return out


def toy_runner(work_dir, max_epochs, resume=False):
    data = [dict(inputs=torch.randn(2), labels=torch.randn(1)) for _ in range(4)]
    checkpoint = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')).default_hooks.checkpoint
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), experiment_name=f'atomic-{uuid.uuid4().hex}',
        train_dataloader=DataLoader(data, batch_size=2), train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(checkpoint, interval=1, max_keep_ckpts=5)),
        default_scope='visiondiv', resume=resume, randomness=dict(seed=0))


def test_checkpoint_hook_with_config_backend_args_writes_atomically(tmp_path, monkeypatch):
    """A save killed mid-write (os.replace, only the atomic backend calls it) keeps epoch_1 and resumes from it."""
    work = tmp_path / 'work'
    puts = []
    real_put, real_replace = AtomicLocalBackend.put, os.replace
    monkeypatch.setattr(AtomicLocalBackend, 'put', lambda self, obj, p: puts.append(osp.basename(p))
                        or real_put(self, obj, p))

    def replace(src, dst):
        if str(dst).endswith('epoch_2.pth'):
            raise Killed
        return real_replace(src, dst)
    monkeypatch.setattr(os, 'replace', replace)
    runner = toy_runner(work, max_epochs=3)
    with pytest.raises(Killed):
        runner.train()
    monkeypatch.setattr(os, 'replace', real_replace)
    # mmengine's save_checkpoint went through the backend
    assert [p for p in puts if p.endswith('.pth')] == ['epoch_1.pth', 'epoch_2.pth']
    assert sorted(glob.glob(str(work / '*.pth'))) == [str(work / 'epoch_1.pth')]
    assert leftovers(work) == []
    assert torch.load(work / 'epoch_1.pth', weights_only=False)['meta']['epoch'] == 1

    resumed = toy_runner(work, max_epochs=3, resume=True)
    resumed.train()
    assert resumed.epoch == 3
    assert torch.load(work / 'epoch_3.pth', weights_only=False)['meta']['epoch'] == 3


@pytest.mark.parametrize('config', sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))),
                         ids=lambda p: osp.relpath(p, osp.join(ROOT, 'configs')))
def test_every_config_saves_checkpoints_atomically(config):
    cfg = Config.fromfile(config)
    assert cfg.default_hooks.checkpoint.get('backend_args') == ATOMIC, config
    assert 'runner_type' not in cfg, config


def test_write_folder_atomically(tmp_path):
    """The folder appears whole under its name or not at all; a failure also removes the parents it made."""
    from visiondiv.engine.fileio import write_folder_atomically

    def write(folder):
        (tmp_path / 'seen').write_text(folder)
        with open(os.path.join(folder, 'a.txt'), 'w') as f:
            f.write('x')
        return 1
    out = tmp_path / 'new' / 'out'
    assert write_folder_atomically(str(out), write) == 1
    assert (out / 'a.txt').read_text() == 'x' and (tmp_path / 'seen').read_text() != str(out)

    def fail(folder):
        open(os.path.join(folder, 'half.txt'), 'w').close()
        raise RuntimeError('disk full')
    with pytest.raises(RuntimeError, match='disk full'):
        write_folder_atomically(str(tmp_path / 'p1' / 'p2' / 'out'), fail)
    assert not (tmp_path / 'p1').exists()
    with pytest.raises(FileExistsError, match='exists and is not an empty folder'):
        write_folder_atomically(str(out), write)
