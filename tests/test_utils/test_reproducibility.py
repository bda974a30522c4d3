"""Reproducible mode (visiondiv.utils.reproducibility): the switch's parsing, and two training runs under it that
give bit-identical losses whatever torch's, oneDNN's and MKL's kernel paths are set to outside."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.script_loader import ROOT, load_script
from visiondiv.utils import reproducibility as repro

DEMO_CONFIG = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')
# emulates a narrower machine than the native one: AVX2 for aten, oneDNN and MKL
NARROW = {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2', 'MKL_ENABLE_INSTRUCTIONS': 'AVX2'}


@pytest.mark.parametrize('cli, env, expected', [
    (None, None, None), (None, '0', None), (None, '', None), (None, '1', 1), (None, '3', 3), (2, None, 2), (2, '5', 2)])
def test_requested_threads(monkeypatch, cli, env, expected):
    monkeypatch.delenv(repro.ENV_SWITCH, raising=False)
    if env is not None:
        monkeypatch.setenv(repro.ENV_SWITCH, env)
    assert repro.requested_threads(cli) == expected


@pytest.mark.parametrize('cli, env, match', [(0, None, '>= 1'), (None, 'yes', 'thread count'), (None, '-2', '>= 1')])
def test_requested_threads_refuses_bad_values(monkeypatch, cli, env, match):
    monkeypatch.delenv(repro.ENV_SWITCH, raising=False)
    if env is not None:
        monkeypatch.setenv(repro.ENV_SWITCH, env)
    with pytest.raises(ValueError, match=match):
        repro.requested_threads(cli)


def test_pinned_env_fixes_every_kernel_path():
    env = repro.pinned_env(2)
    assert env == {'ATEN_CPU_CAPABILITY': 'default', 'ONEDNN_MAX_CPU_ISA': 'SSE41', 'MKL_CBWR': 'COMPATIBLE',
                   'OMP_NUM_THREADS': '2', 'MKL_NUM_THREADS': '2', 'VISIONDIV_REPRODUCIBLE': '2'}


def test_a_library_call_cannot_re_execute(monkeypatch):
    monkeypatch.delenv('ATEN_CPU_CAPABILITY', raising=False)
    with pytest.raises(RuntimeError, match='ATEN_CPU_CAPABILITY=default'):
        repro.enter_reproducible_mode(1, argv=None)


def test_machine_facts_names_the_kernel_path(monkeypatch):
    monkeypatch.setenv('MKL_CBWR', 'COMPATIBLE')
    facts = repro.machine_facts()
    assert facts['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert facts['threads'] == torch.get_num_threads() and facts['torch'] == torch.__version__
    assert facts['env']['MKL_CBWR'] == 'COMPATIBLE' and facts['cpu']


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A 3-iteration training of the demo detector on 6 toy images at 128 px, as a function of its env."""
    root = tmp_path_factory.mktemp('repro')
    data = root / 'toy'
    load_script('tools', 'data', 'toy_dota.py').generate(str(data), num_train=6, num_val=1, seed=0)
    config = root / 'tiny.py'
    config.write_text(f"""_base_ = {DEMO_CONFIG!r}
train_pipeline = [
    dict(type='LoadImageFromFileBitDepth', bit_depth='auto'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(128, 128), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={str(data) + '/'!r}, pipeline=train_pipeline))
train_cfg = dict(max_epochs=1)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=100, save_last=False), logger=dict(interval=1))
custom_hooks = [dict(type='LossTraceHook')]
""")
    runs = {}

    def run(name, env, reproducible):
        if name not in runs:
            work_dir = root / name
            cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)]
            clean = {k: v for k, v in os.environ.items() if k not in repro.KERNEL_ENV_VARS}
            clean.update(env)
            subprocess.run(cmd + (['--reproducible'] if reproducible else []), cwd=ROOT, env=clean, check=True,
                           capture_output=True, text=True)
            with open(work_dir / 'loss_trace.jsonl') as f:
                runs[name] = [json.loads(line) for line in f]
        return runs[name]
    return run


def test_reproducible_mode_gives_identical_losses_across_kernel_paths(tiny_run):
    native, narrow = tiny_run('repro_native', {}, True), tiny_run('repro_narrow', NARROW, True)
    assert len(native) == 3 and all(torch.isfinite(torch.tensor(r['loss'])) for r in native)
    assert native == narrow  # every logged value of every iteration, bit for bit


def test_without_it_the_kernel_path_changes_the_losses(tiny_run):
    """The check above can fail: natively on an AVX512 machine, the narrow path gives other losses."""
    if torch.backends.cpu.get_cpu_capability() != 'AVX512':
        pytest.skip('the native path is already AVX2 or narrower here')
    native, narrow = tiny_run('native', {}, False), tiny_run('narrow', NARROW, False)
    assert [r['loss'] for r in native] != [r['loss'] for r in narrow]
    # they part by rounding only: the first iteration agrees to float32 precision
    assert native[0]['loss'] == pytest.approx(narrow[0]['loss'], rel=1e-4)
