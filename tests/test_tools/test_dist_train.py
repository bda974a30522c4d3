"""Distributed training on the CPU: tools/dist_train.sh with 2 processes, and gradient averaging in one step.

Both run 2 processes with the gloo backend (``visiondiv.utils.cli.setup_distributed``), as a
CPU-only machine does; on a CUDA machine the scripts would use NCCL and a GPU per process.
"""
import os
import os.path as osp
import socket
import subprocess
import sys

import torch

from tests.script_loader import ROOT, load_script

TOY = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def env_without_venv() -> dict:
    """The environment of a shell where the project's venv is not activated (no torchrun on PATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'VIRTUAL_ENV')}
    venv_bin = osp.join(ROOT, '.venv', 'bin')
    env['PATH'] = os.pathsep.join(p for p in env.get('PATH', '').split(os.pathsep)
                                  if p and osp.abspath(p) != venv_bin)
    env['PORT'] = str(free_port())
    env['PYTHONFAULTHANDLER'] = '1'             # a worker that crashes in C++ shows where in Python it was
    return env


def test_dist_train_sh_trains_on_two_cpu_processes_and_test_py_loads_the_checkpoint(tmp_path):
    data = tmp_path / 'data'
    load_script('tools', 'data', 'toy_dota.py').generate(str(data), num_train=4, num_val=2, seed=3)
    shrink = ['--cfg-options', f'data_root={data}/',
              f'train_dataloader.dataset.data_root={data}/', f'val_dataloader.dataset.data_root={data}/',
              f'test_dataloader.dataset.data_root={data}/',
              'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
              'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
              'test_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
              'default_hooks.checkpoint.interval=1']
    work = tmp_path / 'work'
    result = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), TOY, '2', '--work-dir', str(work),
                             *shrink], cwd=str(tmp_path), env=env_without_venv(), capture_output=True, text=True,
                            timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "dist_cfg=dict(backend='gloo')" in out
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    # 4 images, batch 1 per process, 2 processes: the sampler gives each process 2 of them, so 2 iterations
    assert ckpt['meta']['epoch'] == 1 and ckpt['meta']['iter'] == 2
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'test.py'), TOY, str(work / 'epoch_1.pth'),
                             '--work-dir', str(tmp_path / 'test'), *shrink], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert f'Load checkpoint from {work / "epoch_1.pth"}' in out and 'dota/mAP' in out


def flat_update(after: dict, start: dict) -> torch.Tensor:
    return torch.cat([(after[k].double() - start[k].double()).flatten() for k in sorted(start)])


def test_one_distributed_step_averages_the_gradients(tmp_path):
    """2 processes, one image each, step like one process on both images (within float32 rounding).

    mmdet's RetinaNet loss is a sum over anchors divided by the number of positive anchors of the
    process's own batch, and DDP averages the processes' gradients. So the DDP step equals the
    single-process step on the whole batch exactly when both halves have the same number of positives.
    The two images therefore hold the same boxes at the same places on different pixels (one in
    negative): the anchor assignment, which depends on the boxes only, is identical, while the
    gradients differ. A process that did not all-reduce would step like "image 0 alone"; one that
    summed would step twice as far. BN is in eval mode (norm_eval) so that no statistic depends on the
    batch, and the optimizer is plain SGD without clipping, whose update is proportional to the gradient.
    """
    out = tmp_path / 'out'
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', str(free_port()),
         osp.join(ROOT, 'tests', 'test_tools', 'dist_step_check.py'), TOY, str(tmp_path / 'work'), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    ranks = [torch.load(out / f'rank{r}.pt', weights_only=False) for r in (0, 1)]
    ref = torch.load(out / 'reference.pt', weights_only=False)
    # wrapped as the runner does, without CUDA device ids, on gloo
    assert [(r['wrapper'], r['device_ids'], r['backend']) for r in ranks] == [
        ('MMDistributedDataParallel', None, 'gloo')] * 2
    start = ref['start']
    ddp = [flat_update(r['params'], start) for r in ranks]
    whole, alone = flat_update(ref['whole_batch'], start), flat_update(ref['image0_only'], start)
    assert torch.equal(ddp[0], ddp[1])                  # the processes stay identical
    scale = whole.norm()
    assert scale > 0
    # float32 sums in another order: ~1e-7 relative
    assert (ddp[0] - whole).norm() / scale < 1e-5
    # the test can tell: without the all-reduce, or with a sum, the step would be far off
    assert (alone - whole).norm() / scale > 0.05


def test_dist_train_sh_runs_legogcd_on_two_cpu_processes(tmp_path):
    """The GCD pieces under DDP: GCDBalancedSampler shards, LER's q_hat averaged over ranks (all_reduce in the
    forward), GCDAccuracy gathered from both ranks."""
    cfg = osp.join(ROOT, 'configs', 'legogcd', 'legogcd_smallconvnet_30e_digits.py')
    work = tmp_path / 'work'
    result = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), cfg, '2', '--work-dir', str(work),
                             '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                             'train_dataloader.batch_size=32', 'default_hooks.checkpoint.interval=1'],
                            cwd=str(tmp_path), env=env_without_venv(), capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    # 1797 training digits per epoch over 2 ranks: ceil(1797 / 2) = 899 each, 28 full batches of 32
    assert ckpt['meta']['iter'] == 28
    qhat = ckpt['state_dict']['loss_ler.qhat']
    assert abs(float(qhat.sum()) - 1.0) < 1e-5 and not torch.allclose(qhat, torch.full_like(qhat, 0.1))
    assert 'Epoch(val) [1]' in out and 'All: ' in out


def test_dist_train_sums_the_gkl_class_prior_over_the_processes(tmp_path):
    """GKL's class prior after one epoch on 2 processes (each sees half of MNIST-5k's training split) equals the
    one-process run's: DistillEpochHook adds the per-class sums of the processes before publishing the prior.

    The teacher is frozen, so its probabilities depend on the images only and the prior is the per-class mean over
    all 1000 images either way; a process that kept its own sums would publish the mean over its 500."""
    from visiondiv.registry import MODELS
    from visiondiv.utils.setup_env import register_all_modules
    register_all_modules()
    cfg_path = osp.join(ROOT, 'configs', 'gkl', 'gkl_smallconvnet-w32_smallconvnet-w8_mnist5k_24e.py')
    torch.manual_seed(0)
    teacher = MODELS.build(dict(type='ImageClassifier',
                                data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3285],
                                                       std=[78.5655]),
                                backbone=dict(type='SmallConvNet', in_channels=1, widths=(32, 64, 128)),
                                head=dict(type='LinearClsHead', num_classes=10, in_channels=128)))
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    options = ['--cfg-options', f'model.teacher_ckpt={ckpt}', 'train_cfg.max_epochs=1']
    result = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), cfg_path, '2', '--work-dir',
                             str(tmp_path / 'dist'), *options], cwd=str(tmp_path), env=env_without_venv(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg_path, '--work-dir',
                             str(tmp_path / 'one'), *options], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    priors = []
    for run, iters in (('dist', 8), ('one', 16)):  # 500 or 1000 images, batch 64
        saved = torch.load(tmp_path / run / 'epoch_1.pth', map_location='cpu', weights_only=False)
        assert saved['meta']['iter'] == iters
        priors.append(saved['state_dict']['distill_losses.gkl.class_prior'])
    assert not torch.allclose(priors[1], torch.full((10, 10), 0.1), atol=1e-3)  # no longer the uniform start
    torch.testing.assert_close(priors[0], priors[1], rtol=0, atol=1e-6)
