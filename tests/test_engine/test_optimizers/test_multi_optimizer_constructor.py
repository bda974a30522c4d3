import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from visiondiv.engine import MultiOptimWrapperConstructor
from visiondiv.registry import OPTIM_WRAPPER_CONSTRUCTORS


class ToyGAN(BaseModel):
    """Generator and critic; ``train_step`` steps each with its own optimizer wrapper, as GANs do."""

    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
        self.discriminator = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))

    def forward(self, inputs, mode='tensor'):
        return self.generator(inputs)

    def train_step(self, data, optim_wrapper):
        x = self.data_preprocessor(data, True)['inputs']
        d_loss = self.discriminator(self.generator(x).detach()).mean() - self.discriminator(x).mean()
        optim_wrapper['discriminator'].update_params(d_loss)
        g_loss = -self.discriminator(self.generator(x)).mean()
        optim_wrapper['generator'].update_params(g_loss)
        return dict(loss_d=d_loss.detach(), loss_g=g_loss.detach())


GAN_CFG = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
    discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.002, weight_decay=0.01),
                       paramwise_cfg=dict(bias_lr_mult=0.5)))


def build(model, **cfg):
    # mmengine's own entry point, as the Runner calls it; the constructor is found under the visiondiv scope
    with DefaultScope.overwrite_default_scope('visiondiv'):
        return build_optim_wrapper(model, dict(GAN_CFG, **cfg))


def test_registered_in_visiondiv_scope():
    assert OPTIM_WRAPPER_CONSTRUCTORS.get('MultiOptimWrapperConstructor') is MultiOptimWrapperConstructor
    assert OPTIM_WRAPPER_CONSTRUCTORS.scope == 'visiondiv'


def ids(params):
    return {id(p) for p in params}


def test_one_optimizer_per_submodule_with_its_own_settings():
    model = ToyGAN()
    wrappers = build(model)
    assert isinstance(wrappers, OptimWrapperDict) and set(wrappers.keys()) == {'generator', 'discriminator'}
    g_opt, d_opt = wrappers['generator'].optimizer, wrappers['discriminator'].optimizer
    assert isinstance(g_opt, torch.optim.SGD) and isinstance(d_opt, torch.optim.Adam)
    assert ids(p for g in g_opt.param_groups for p in g['params']) == ids(model.generator.parameters())
    assert ids(p for g in d_opt.param_groups for p in g['params']) == ids(model.discriminator.parameters())
    assert {g['lr'] for g in g_opt.param_groups} == {0.1}
    # the entry's paramwise_cfg reached its DefaultOptimWrapperConstructor: biases at half the lr
    bias_ids = ids(m.bias for m in model.discriminator if isinstance(m, nn.Linear))
    lrs = {g['lr'] for g in d_opt.param_groups if ids(g['params']) <= bias_ids}
    assert lrs == {0.001} and {g['lr'] for g in d_opt.param_groups} == {0.001, 0.002}


def test_stepping_one_wrapper_leaves_the_other_submodule_unchanged():
    model = ToyGAN()
    wrappers = build(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = -model.discriminator(model.generator(torch.randn(8, 2))).mean()   # gradients reach both submodules
    wrappers['generator'].update_params(loss)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {k for k in before if k.startswith('generator.')}


def test_wrapped_model_is_unwrapped():
    model = ToyGAN()
    wrappers = build(nn.DataParallel(model))     # a registered model wrapper, like DDP, on the CPU
    assert ids(wrappers['generator'].optimizer.param_groups[0]['params']) == ids(model.generator.parameters())


def test_unknown_submodule_and_uncovered_parameters_are_named():
    with pytest.raises(ValueError, match=r"optim_wrapper\.critic: ToyGAN has no submodule 'critic'"):
        build(ToyGAN(), critic=dict(optimizer=dict(type='SGD', lr=0.1)))
    with pytest.raises(ValueError, match=r"optim_wrapper\.training: ToyGAN has no submodule"):
        build(ToyGAN(), training=dict(optimizer=dict(type='SGD', lr=0.1)))   # an attribute, not a module
    with pytest.raises(TypeError, match=r'optim_wrapper\.optimizer must be an optim wrapper config'):
        build(ToyGAN(), optimizer='SGD')
    with pytest.raises(ValueError, match=r"optim_wrapper\.paramwise_cfg: \['critic'\] name no entry"):
        build(ToyGAN(), paramwise_cfg=dict(critic=dict(bias_lr_mult=2.)))

    model = ToyGAN()
    model.head = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r'would not be optimized: head\.weight, head\.bias'):
        build(model)
    assert set(build(model, allow_uncovered_params=True).keys()) == {'generator', 'discriminator'}
    model.head.requires_grad_(False)      # frozen parameters need no entry
    assert set(build(model).keys()) == {'generator', 'discriminator'}


def test_top_level_paramwise_cfg_per_entry():
    model = ToyGAN()
    cfg = dict(GAN_CFG, generator=dict(optimizer=dict(type='SGD', lr=0.1)),
               paramwise_cfg=dict(generator=dict(bias_lr_mult=3.)))
    with DefaultScope.overwrite_default_scope('visiondiv'):
        wrappers = build_optim_wrapper(model, cfg)
    assert {round(g['lr'], 6) for g in wrappers['generator'].optimizer.param_groups} == {0.1, 0.3}


def test_runner_trains_with_it_and_saves_both_optimizers(tmp_path):
    data = [dict(inputs=torch.randn(2)) for _ in range(8)]
    runner = Runner(
        model=ToyGAN(), work_dir=str(tmp_path), experiment_name=f'gan-{uuid.uuid4().hex}',
        train_dataloader=DataLoader(data, batch_size=4), train_cfg=dict(by_epoch=False, max_iters=3),
        optim_wrapper=GAN_CFG,
        param_scheduler=dict(generator=[dict(type='ConstantLR', factor=0.5, by_epoch=False, end=10)],
                             discriminator=[]),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3)),
        default_scope='visiondiv', randomness=dict(seed=0))
    g_before = [p.clone() for p in runner.model.generator.parameters()]
    runner.train()
    assert isinstance(runner.optim_wrapper, OptimWrapperDict)
    d_state = runner.optim_wrapper['discriminator'].optimizer.state
    assert all(s['step'] == 3 for s in d_state.values()) and len(d_state) == 4    # Adam stepped every iteration
    assert any(not torch.equal(a, b) for a, b in zip(g_before, runner.model.generator.parameters()))
    assert runner.optim_wrapper['generator'].get_lr()['lr'] == [pytest.approx(0.05)]   # its own scheduler
    ckpt = torch.load(tmp_path / 'iter_3.pth', weights_only=False)
    assert set(ckpt['optimizer']) == {'generator', 'discriminator'}
    assert sorted(g['lr'] for g in ckpt['optimizer']['discriminator']['param_groups']) == [0.001, 0.001, 0.002, 0.002]
