"""LossTraceHook writes each iteration's logged values exactly (JSON lines), appending across a resume."""
import json
from types import SimpleNamespace

import pytest
import torch

from visiondiv.engine.hooks import LossTraceHook


def _runner(work_dir, it):
    return SimpleNamespace(work_dir=str(work_dir), iter=it)


def test_writes_exact_values_per_iteration(tmp_path):
    hook = LossTraceHook()
    hook.before_train(_runner(tmp_path, 0))
    values = [torch.tensor(0.1234567, dtype=torch.float32), torch.tensor(2.0 ** -20, dtype=torch.float32)]
    for it, v in enumerate(values):
        hook.after_train_iter(_runner(tmp_path, it), it, None, {'loss': v, 'loss_cls': v * 3})
    hook.after_train(_runner(tmp_path, 2))
    records = [json.loads(line) for line in open(tmp_path / 'loss_trace.jsonl')]
    assert [r['iter'] for r in records] == [0, 1]
    # float32 -> float64 -> JSON -> float64 round-trips bit for bit
    assert [r['loss'] for r in records] == [float(v) for v in values]
    assert [r['loss_cls'] for r in records] == [float(v * 3) for v in values]


def test_max_iters_and_resume_append(tmp_path):
    hook = LossTraceHook(max_iters=2)
    for start in (0, 1):  # a second run (resume) appends to the same trace
        hook.before_train(_runner(tmp_path, start))
        for it in range(start, 4):
            hook.after_train_iter(_runner(tmp_path, it), it, None, {'loss': torch.tensor(float(it))})
        hook.after_train(_runner(tmp_path, 4))
    assert [json.loads(line)['iter'] for line in open(tmp_path / 'loss_trace.jsonl')] == [0, 1, 1]


def test_refuses_bad_max_iters():
    with pytest.raises(ValueError, match='max_iters'):
        LossTraceHook(max_iters=0)
