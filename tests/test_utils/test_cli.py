"""The tools' shared command line: --cfg-options type checks, the check hook, distributed setup on CPU."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.script_loader import ROOT, load_script
from visiondiv.utils import check_cfg_options
from visiondiv.utils.cli import add_compatibility_check, make_parser, parse_cli_args

TOY = osp.join(ROOT, 'configs', 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')


def test_cfg_option_of_wrong_type_names_key_value_and_type():
    train = load_script('tools', 'train.py')
    args = train.parse_args([TOY, '--cfg-options', 'train_cfg.max_epochs=abc'])
    with pytest.raises(TypeError) as err:
        train.build_config(args)
    # mmengine's own error was "invalid literal for int() with base 10: 'abc'", from inside the train loop
    assert str(err.value) == (f"--cfg-options train_cfg.max_epochs='abc': expected a number like the config's "
                              f"int 16 (as train_cfg.max_epochs in {TOY}), got str")


@pytest.mark.parametrize('option, ok', [
    ('train_cfg.max_epochs=2', True), ('optim_wrapper.optimizer.lr=1', True),         # int for a float: fine
    ('optim_wrapper.clip_grad.max_norm=10.5', True), ('load_from=x.pth', True),       # load_from is None
    ('train_dataloader.persistent_workers=false', True), ('model.backbone.norm_eval=None', True),
    ('new_key=abc', True), ('train_dataloader.dataset.pipeline.3.scale=[256,256]', True),
    ('train_dataloader.persistent_workers=1', False), ('optim_wrapper.optimizer.lr=true', False),
    ('train_dataloader.dataset.pipeline.4.prob=high', False),                           # list items by index
])
def test_cfg_option_types(option, ok):
    cfg = Config.fromfile(TOY)
    options = parse_cli_args(make_parser('t'), [TOY, '--cfg-options', option]).cfg_options
    if ok:
        check_cfg_options(cfg, options)
    else:
        with pytest.raises(TypeError, match=f'--cfg-options {option.split("=")[0]}='):
            check_cfg_options(cfg, options)


def test_compatibility_hook_is_added_once():
    cfg = Config(dict(custom_hooks=[dict(type='SourceFreeCheckHook')]))
    add_compatibility_check(cfg, complete_checkpoint=False)
    add_compatibility_check(cfg, complete_checkpoint=True)
    assert cfg.custom_hooks == [dict(type='SourceFreeCheckHook'),
                                dict(type='CompatibilityCheckHook', complete_checkpoint=True)]


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU setup applies without CUDA only')
def test_setup_distributed_on_cpu_uses_gloo_and_no_device_ids(monkeypatch):
    """mmengine's init_dist would call torch.cuda.set_device; a process group started here skips it."""
    import torch.distributed as dist

    from visiondiv.utils.cli import setup_distributed
    calls = []
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist, 'init_process_group', lambda **kw: calls.append(kw))
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    cfg = Config.fromfile(TOY)
    cfg.launcher = 'pytorch'
    setup_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                                         find_unused_parameters=False, device_ids=None)
    assert calls == [dict(backend='gloo', init_method='env://', rank=1, world_size=2)]
    calls.clear()
    setup_distributed(Config(dict(launcher='none')))
    assert calls == []


def test_teardown_distributed_ends_the_process_group(tmp_path):
    """tools/train.py and tools/test.py end the group themselves: one left to the exit aborted a finished run."""
    import torch.distributed as dist

    from visiondiv.utils.cli import teardown_distributed
    teardown_distributed()                      # no group: nothing to do
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0, world_size=1)
    try:
        assert dist.is_initialized()
        teardown_distributed()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_slurm_variables_become_torch_env_variables(monkeypatch):
    """What mmengine's slurm init derives (it then calls torch.cuda.set_device, which a CPU build lacks)."""
    from visiondiv.utils.cli import _export_launcher_env
    for k, v in dict(SLURM_PROCID='3', SLURM_NTASKS='4', SLURM_LOCALID='1', SLURM_NODELIST='n[1-2]',
                     MASTER_ADDR='10.0.0.1').items():
        monkeypatch.setenv(k, v)
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT'):
        monkeypatch.delenv(k, raising=False)
    _export_launcher_env('slurm')
    assert {k: os.environ[k] for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')} == dict(
        RANK='3', WORLD_SIZE='4', LOCAL_RANK='1', MASTER_ADDR='10.0.0.1', MASTER_PORT='29500')


@pytest.mark.parametrize('tool', ['train', 'test', 'print_config', 'browse_dataset', 'benchmark'])
def test_every_tool_refuses_the_option_train_refuses(tool, tmp_path):
    """One check (visiondiv.utils.merge_cfg_options) for every tool that takes --cfg-options."""
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'')
    work_dir = ['--work-dir', str(tmp_path)]
    script, args = {
        'train': (('tools', 'train.py'), [TOY, *work_dir]),
        'test': (('tools', 'test.py'), [TOY, str(ckpt), *work_dir]),
        'print_config': (('tools', 'misc', 'print_config.py'), [TOY]),
        'browse_dataset': (('tools', 'analysis_tools', 'browse_dataset.py'), [TOY, '--not-show']),
        'benchmark': (('tools', 'analysis_tools', 'benchmark.py'), [TOY, str(ckpt)]),
    }[tool]
    with pytest.raises(TypeError) as err:
        load_script(*script).main(args + ['--cfg-options', 'train_dataloader.batch_size=abc'])
    # before: print_config printed batch_size='abc' and browse_dataset went on to build the dataset
    assert str(err.value) == (f"--cfg-options train_dataloader.batch_size='abc': expected a number like the "
                              f"config's int 4 (as train_dataloader.batch_size in {TOY}), got str")
