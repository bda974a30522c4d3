"""The knowledge-distillation configs (configs/kd, dkd, gkl, wkd, bdkd): the published settings, the teachers, the
offline study's MNIST-5k configs, and a missing teacher checkpoint refused before anything trains."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.script_loader import load_script
from visiondiv.registry import MODELS
from visiondiv.utils.config_check import ConfigCheckError, check_config

ROOT = osp.join(osp.dirname(__file__), '..')
MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')
METHODS = ('kd', 'dkd', 'gkl', 'wkd', 'bdkd')
DISTILL = sorted(p for m in METHODS for p in glob.glob(osp.join(ROOT, 'configs', m, f'{m}_*.py')))
PAIRS = {'resnet32x4_resnet8x4_cifar': ('resnet32x4_cifar', 'resnet8x4_cifar'),
         'wrn-40-2_wrn-16-2_cifar': ('wrn-40-2_cifar', 'wrn-16-2_cifar'),
         'resnet34_resnet18_in1k': ('resnet34_in1k', 'resnet18_in1k'),
         'smallconvnet-w32_smallconvnet-w8_mnist': ('smallconvnet-w32_mnist', 'smallconvnet-w8_mnist')}


def model_of(name: str) -> dict:
    return Config.fromfile(osp.join(MODELS_DIR, f'{name}.py')).model.to_dict()


def test_seventeen_distillation_configs():
    # 4 methods x (2 CIFAR-100 pairs + ImageNet + the MNIST-5k study) + BD-KD's study config
    assert len(DISTILL) == 17
    assert len(glob.glob(osp.join(ROOT, 'configs', 'kd', '*.py'))) == 12  # 4 KD + 8 models trained alone


@pytest.mark.parametrize('pair', sorted(PAIRS))
def test_distill_bases_hold_the_standalone_models(pair):
    """The teacher is spelled out in the distillation base: it must stay the teacher's own config."""
    model = Config.fromfile(osp.join(MODELS_DIR, f'distill_{pair}.py')).model.to_dict()
    teacher, student = PAIRS[pair]
    assert model['type'] == 'SingleTeacherDistill'
    assert model['teacher'] == model_of(teacher) and model['architecture'] == model_of(student)
    assert model['teacher_ckpt'] == f'checkpoints/{teacher}.pth'


PUBLISHED = [p for p in DISTILL if 'mnist5k' not in p]
STUDY = [p for p in DISTILL if 'mnist5k' in p]


@pytest.mark.parametrize('path', PUBLISHED, ids=[osp.basename(p) for p in PUBLISHED])
def test_settings_and_hooks(path):
    cfg = Config.fromfile(path)
    (name, loss), = cfg.model.distill_losses.items()
    method = osp.basename(osp.dirname(path))
    assert name == method
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    cifar = 'cifar100' in path
    # the epoch-dependent losses (warm-up, GKL's class prior, WKD's decay) need the hook; the others do not use it
    assert hooks == (['DistillEpochHook'] if method in ('dkd', 'gkl', 'wkd') else [])
    assert cfg.train_cfg.max_epochs == (240 if cifar else 100)
    assert cfg.optim_wrapper.optimizer.lr == (0.05 if cifar else 0.2)
    assert cfg.param_scheduler[0].milestones == ([150, 180, 210] if cifar else [30, 60, 90])
    assert cfg.optim_wrapper.optimizer.weight_decay == (5e-4 if cifar else 1e-4)
    assert cfg.train_dataloader.batch_size == 64
    expected = {
        'kd': dict(tau=4.0 if cifar else 1.0, loss_weight=0.9 if cifar else 0.5),
        'dkd': dict(tau=4.0 if cifar else 1.0, warmup_epochs=20 if cifar else 1,
                    beta=6.0 if 'wrn' in path else 8.0 if cifar else 0.5),
        'gkl': dict(tau=4.0 if cifar else 1.0, tau_weight=4.0 if cifar else 1.0,
                    weights='sample' if 'wrn' in path else 'class'),
        'wkd': dict(wd_weight=600.0 if 'resnet8x4' in path else 200.0 if cifar else 30.0,
                    # WKD's ImageNet yaml leaves COSINE_DECAY_EPOCH at its default 0: decay over all 100 epochs
                    wd_decay=dict(start_epoch=150, end_epoch=240) if cifar else dict(start_epoch=0, end_epoch=100)),
    }[method]
    assert {k: loss.get(k) for k in expected} == expected
    assert cfg.model.get('student_loss_weight', 1.0) == ({'kd': 0.1 if cifar else 0.5}.get(method, 1.0))


@pytest.mark.parametrize('path', STUDY, ids=[osp.basename(p) for p in STUDY])
def test_study_configs_scale_the_resnet32x4_resnet8x4_setting(path):
    """The MNIST-5k study: the CIFAR-100 resnet32x4->resnet8x4 loss settings, epoch counts / 10, one schedule."""
    cfg = Config.fromfile(path)
    method = osp.basename(osp.dirname(path))
    (name, loss), = cfg.model.distill_losses.items()
    assert name == method
    if method != 'bdkd':
        cifar = Config.fromfile(osp.join(ROOT, 'configs', method,
                                         f'{method}_resnet32x4_resnet8x4_cifar100_240e.py')).model
        ref = cifar.distill_losses[method].to_dict()
        for key in ('warmup_epochs', ):
            if key in ref:
                ref[key] //= 10
        if 'wd_decay' in ref:
            ref['wd_decay'] = {k: v // 10 for k, v in ref['wd_decay'].items()}
        assert loss.to_dict() == ref
        assert cfg.model.get('student_loss_weight') == cifar.get('student_loss_weight')
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert hooks == [h['type'] for h in Config.fromfile(osp.join(
            ROOT, 'configs', method, f'{method}_resnet32x4_resnet8x4_cifar100_240e.py')).get('custom_hooks', [])]
    assert cfg.train_cfg.max_epochs == 24 and cfg.param_scheduler[0].milestones == [15, 18, 21]
    assert (cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.weight_decay) == (0.05, 5e-4)
    assert cfg.train_dataloader.dataset.split == 'train' and cfg.val_dataloader.dataset.split == 'test'
    alone = Config.fromfile(osp.join(ROOT, 'configs', 'kd', 'smallconvnet-w8_mnist5k_24e.py'))
    for key in ('train_dataloader', 'val_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert cfg[key] == alone[key], key  # the student alone trains on the same terms


def test_train_refuses_a_missing_teacher_checkpoint(tmp_path):
    """tools/train.py stops at the config check, before building or training anything."""
    path = osp.join(ROOT, 'configs', 'kd', 'kd_resnet32x4_resnet8x4_cifar100_240e.py')
    missing = str(tmp_path / 'no_teacher.pth')
    with pytest.raises(ConfigCheckError, match=f"'model.teacher_ckpt' file not found: {missing}"):
        load_script('tools', 'train.py').main([path, '--work-dir', str(tmp_path / 'work'),
                                               '--cfg-options', f'model.teacher_ckpt={missing}'])
    assert not osp.exists(tmp_path / 'work' / 'epoch_1.pth')
    # built directly (not through the config check), the wrapper refuses it too
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = missing
    with pytest.raises(FileNotFoundError, match='teacher_ckpt not found'):
        MODELS.build(cfg.model)


def test_config_check_passes_with_the_teacher_checkpoint(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'dkd', 'dkd_wrn-40-2_wrn-16-2_cifar100_240e.py'))
    ckpt = tmp_path / 'wrn-40-2_cifar.pth'
    torch.save(dict(state_dict=MODELS.build(model_of('wrn-40-2_cifar')).state_dict()), ckpt)
    cfg.model.teacher_ckpt = str(ckpt)
    check_config(cfg)
    model = MODELS.build(cfg.model)
    assert model.teacher._is_init
