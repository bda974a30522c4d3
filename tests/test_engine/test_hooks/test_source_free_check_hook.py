"""SourceFreeCheckHook stops the real SFDA config's run when source data is configured."""
import os
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from tests.script_loader import ROOT, load_script
from visiondiv.engine import SourceFreeCheckHook, check_source_free
from visiondiv.engine.hooks.source_free_check_hook import check_adapts_a_checkpoint
from visiondiv.registry import HOOKS

SFDA = osp.join(ROOT, 'configs', 'sfda', 'sfda_unet-gn_200it_toy-shift.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_shift')
    load_script('tools', 'data', 'toy_shift.py').generate(str(root), num_train=2, num_test=1, shape=(4, 32, 32),
                                                           seed=3)
    return str(root)


def sfda_cfg(toy_root, work_dir):
    cfg = Config.fromfile(SFDA)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = toy_root
        cfg[key].batch_size = 2
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 2, 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.load_from = str(work_dir / 'no-source-model.pth')   # never reached: the hook stops the run first
    return cfg


def run_refused(cfg, match):
    runner = Runner.from_cfg(cfg)
    assert any(isinstance(h, SourceFreeCheckHook) for h in runner.hooks)    # the config's custom_hooks
    with pytest.raises(ValueError, match=match):
        runner.train()
    assert runner.iter == 0                                                 # not one training step
    assert not [f for _, _, files in os.walk(cfg.work_dir) for f in files if f.endswith('.pth')]


def test_config_registers_the_hook():
    cfg = Config.fromfile(SFDA)
    assert cfg.custom_hooks == [dict(type='SourceFreeCheckHook')] and 'runner_type' not in cfg
    assert HOOKS.get('SourceFreeCheckHook') is SourceFreeCheckHook
    for variant in ('adaent_unet-gn_200it_toy-shift.py', 'tent_unet-gn_200it_toy-shift.py',
                    'sfda_enet_200it_toy-shift.py'):
        assert Config.fromfile(osp.join(ROOT, 'configs', 'sfda', variant)).custom_hooks == cfg.custom_hooks
    for supervised in ('source_unet-gn_600it_toy-shift.py', 'oracle_unet-gn_600it_toy-shift.py'):
        assert not Config.fromfile(osp.join(ROOT, 'configs', 'sfda', supervised)).get('custom_hooks')


def test_source_training_data_is_refused_when_the_runner_runs(toy_root, tmp_path):
    cfg = sfda_cfg(toy_root, tmp_path / 'work')
    cfg.train_dataloader.dataset = dict(cfg.source_train, data_root=toy_root)   # labelled, domain='source'
    run_refused(cfg, r"sfda_unet-gn_200it_toy-shift\.py: 'train_dataloader\.dataset' is a source dataset "
                     r"\(domain='source'\)")


def test_source_dataloader_key_is_refused_when_the_runner_runs(toy_root, tmp_path):
    cfg = sfda_cfg(toy_root, tmp_path / 'work')
    cfg.source_dataloader = dict(cfg.train_dataloader, dataset=dict(cfg.source_train, data_root=toy_root))
    run_refused(cfg, r"must not configure source data \('source_dataloader'\)")


def test_runner_without_config_is_an_error():
    with pytest.raises(ValueError, match='build it with Runner.from_cfg'):
        SourceFreeCheckHook().before_run(SimpleNamespace(cfg=Config()))


@pytest.mark.parametrize('domain', ['Source', ' SOURCE ', 'source\n'])
def test_source_domain_is_matched_in_any_case(toy_root, tmp_path, domain):
    """``domain='Source'`` used to pass the check and adapt on source images."""
    cfg = sfda_cfg(toy_root, tmp_path / 'work')
    cfg.train_dataloader.dataset = dict(cfg.source_train, data_root=toy_root, label_dir=None, domain=domain)
    with pytest.raises(ValueError, match=r"'train_dataloader\.dataset' is a source dataset"):
        check_source_free(cfg)
    cfg.train_dataloader.dataset.domain = ' Target'
    check_source_free(cfg)


def test_adaptation_without_load_from_is_refused_when_the_runner_runs(toy_root, tmp_path):
    """With no load_from the run adapted a randomly initialised network."""
    cfg = sfda_cfg(toy_root, tmp_path / 'work')
    cfg.load_from = None
    run_refused(cfg, r"sfda_unet-gn_200it_toy-shift\.py: source-free adaptation needs the source model: "
                     r"set 'load_from'")


def test_resume_needs_a_checkpoint_to_resume(tmp_path):
    cfg = Config(dict(load_from=None, resume=True))
    with pytest.raises(ValueError, match=r"resume=True but .* holds no checkpoint and 'load_from' is not set"):
        check_adapts_a_checkpoint(cfg, str(tmp_path))
    (tmp_path / 'iter_100.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_100.pth'))
    check_adapts_a_checkpoint(cfg, str(tmp_path))                    # mmengine resumes from iter_100.pth
    check_adapts_a_checkpoint(Config(dict(load_from='source.pth')), str(tmp_path / 'empty'))
