"""End-to-end robustness of tools/train.py on a tiny generated toy set (subprocesses, CPU)."""
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.script_loader import ROOT, load_script

BASE = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')


def make_data(root, num_train=6):
    toy = load_script('tools', 'data', 'toy_dota.py')
    toy.generate(str(root), num_train=num_train, num_val=2, seed=3)


def write_config(tmp_path, data_root, max_epochs=3, filter_empty=True):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"""
_base_ = {BASE!r}
data_root = {str(data_root) + '/'!r}
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, filter_cfg=dict(filter_empty_gt={filter_empty})))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={max_epochs}, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=1)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=10))
""")
    return str(cfg)


def train_cmd(cfg, work_dir, *extra):
    return [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg, '--work-dir', str(work_dir), *extra]


def run_train(cfg, work_dir, *extra):
    return subprocess.run(train_cmd(cfg, work_dir, *extra), cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_killed_run_resumes_to_same_iteration(tmp_path):
    make_data(tmp_path / 'data')
    cfg = write_config(tmp_path, tmp_path / 'data', max_epochs=4)
    work = tmp_path / 'work'
    proc = subprocess.Popen(train_cmd(cfg, work), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (work / 'epoch_2.pth').exists():
        assert proc.poll() is None, 'training ended before it could be killed'
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)       # killed mid-way: no cleanup, no final checkpoint
    proc.wait()
    assert not (work / 'epoch_4.pth').exists()
    result = run_train(cfg, work, '--resume')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'resumed epoch' in (result.stdout + result.stderr)
    ckpt = torch.load(work / 'epoch_4.pth', map_location='cpu', weights_only=False)
    # 6 images, all with objects except the generator's rare empty ones, batch 2 -> 3 iterations/epoch
    iters_per_epoch = ckpt['meta']['iter'] // 4
    assert ckpt['meta']['epoch'] == 4 and ckpt['meta']['iter'] == 4 * iters_per_epoch and iters_per_epoch >= 2
    # every checkpoint left on disk is complete (atomic writes)
    for f in work.glob('*.pth'):
        torch.load(f, map_location='cpu', weights_only=False)


def test_empty_images_train_and_corrupted_image_is_named(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=4)
    for name in ('P0000', 'P0001'):       # two images without objects, kept in training
        (data / 'train' / 'labelTxt' / f'{name}.txt').write_text('')
    cfg = write_config(tmp_path, data, max_epochs=1, filter_empty=False)
    result = run_train(cfg, tmp_path / 'w1')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'nan' not in (result.stdout + result.stderr).lower().split('loss:')[-1][:200]
    (data / 'train' / 'images' / 'P0002.png').write_bytes(b'not a png')
    result = run_train(cfg, tmp_path / 'w2')
    assert result.returncode != 0
    assert 'P0002.png' in result.stdout + result.stderr


def test_malformed_annotation_and_unknown_type_fail_early(tmp_path):
    data = tmp_path / 'data'
    make_data(data, num_train=2)
    with open(data / 'train' / 'labelTxt' / 'P0001.txt', 'a') as f:
        f.write('1 2 3 4 5 6 7 8 submarine 0\n')
    cfg = write_config(tmp_path, data, max_epochs=1)
    result = run_train(cfg, tmp_path / 'w')
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "P0001.txt" in out and "unknown class 'submarine'" in out
    result = run_train(cfg, tmp_path / 'w', '--cfg-options', 'model.bbox_head.loss_bbox.type=KLDLos')
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "'model.bbox_head.loss_bbox.type' names unknown type 'KLDLos'" in out


def test_amp_without_gpu_is_refused_clearly():
    train = load_script('tools', 'train.py')
    args = train.parse_args([BASE, '--amp'])
    if torch.cuda.is_available():
        assert train.build_config(args).optim_wrapper.type == 'AmpOptimWrapper'
    else:
        with pytest.raises(RuntimeError, match='--amp needs a GPU'):
            train.build_config(args)
