"""DistillEpochHook: DKD warm-up per epoch, GKL class prior accumulated from the teacher, and its resume."""
import copy
import types
import uuid

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import IterBasedTrainLoop, Runner, load_checkpoint

from tests.distill_fixtures import batch, stub
from visiondiv.engine.hooks import DistillEpochHook
from visiondiv.models.losses import GeneralizedKLLoss, WassersteinKDLoss
from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import check_checkpoint

LOSSES = dict(kd=dict(type='KDLoss'), dkd=dict(type='DKDLoss', warmup_epochs=4),
              gkl=dict(type='GeneralizedKLLoss', tau_weight=2.0, gamma=0.5))


def build():
    torch.manual_seed(0)
    return MODELS.build(dict(type='SingleTeacherDistill', architecture=stub(), teacher=stub(channels=8),
                             distill_losses=copy.deepcopy(LOSSES)))


def fake_runner(model, epoch=0):
    return types.SimpleNamespace(model=model, epoch=epoch, message_hub=MessageHub(f'kd-{uuid.uuid4().hex}'))


def run_epoch(hook, runner, batches):
    """The hook's calls around the model's training losses; returns the teacher logits and labels seen."""
    hook.before_train_epoch(runner)
    seen = []
    for i, (x, samples) in enumerate(batches):
        runner.model.loss(x, samples)
        seen.append((runner.model.last_teacher_logits.clone(), runner.model.last_gt_labels.clone()))
        hook.after_train_iter(runner, i)
        hook.after_train_iter(runner, i)  # a second call without a new forward adds nothing
    hook.after_train_epoch(runner)
    return seen


def hand_prior(seen, num_classes=3, tau_weight=2.0):
    """Row y: the mean of softmax(t / tau_weight) over the samples of class y; uniform for an absent class."""
    logits = torch.cat([t for t, _ in seen])
    labels = torch.cat([y for _, y in seen])
    prior = torch.full((num_classes, num_classes), 1.0 / num_classes)
    for y in labels.unique():
        prior[y] = (logits[labels == y] / tau_weight).softmax(1).mean(0)
    return prior


BATCHES = [batch(4, seed=1, labels=[0, 1, 1, 0]), batch(3, seed=2, labels=[1, 0, 0])]  # class 2 never seen


def test_set_epoch_and_class_prior_against_hand_computation():
    model = build().train()
    hook, runner = DistillEpochHook(), fake_runner(model, epoch=0)
    hook.before_train(runner)
    gkl, dkd = model.distill_losses['gkl'], model.distill_losses['dkd']
    uniform = torch.full((3, 3), 1 / 3)
    torch.testing.assert_close(gkl.class_prior, uniform)  # the first epoch: uniform
    seen = run_epoch(hook, runner, BATCHES)
    assert dkd.warmup_factor == 0.25  # set_epoch(runner.epoch + 1 = 1) of 4 warm-up epochs
    assert gkl.warmup_factor == 1.0   # no warm-up
    assert runner.message_hub.get_scalar('train/dkd_warmup').current() == 0.25
    prior = hand_prior(seen)
    torch.testing.assert_close(gkl.class_prior, prior)
    torch.testing.assert_close(gkl.class_prior[2], uniform[2])
    assert not hasattr(model.distill_losses['kd'], 'class_prior')

    # the next epoch: warm-up 2/4, and the GKL term uses the published prior
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert dkd.warmup_factor == 0.5
    x, samples = BATCHES[0]
    losses = model.loss(x, samples)
    with torch.no_grad():
        s = model.architecture.head(model.architecture.extract_feat(x))
    labels = torch.tensor([0, 1, 1, 0])
    ref = GeneralizedKLLoss(tau_weight=2.0, gamma=0.5)(s, model.last_teacher_logits, labels, class_prior=prior)
    torch.testing.assert_close(losses['distill.loss_gkl'], ref)


def test_refusals():
    hook = DistillEpochHook()
    with pytest.raises(AttributeError, match='has no distill_losses'):
        hook.before_train(fake_runner(torch.nn.Linear(2, 2)))
    with pytest.raises(KeyError, match=r"loss_names \['wkd'\]"):
        DistillEpochHook(loss_names=['wkd']).before_train(fake_runner(build()))
    runner = fake_runner(build())
    runner.train_loop = object.__new__(IterBasedTrainLoop)
    with pytest.raises(ValueError, match='IterBasedTrainLoop'):
        hook.before_train(runner)


def test_class_prior_survives_save_and_fresh_build(tmp_path):
    model = build().train()
    hook, runner = DistillEpochHook(), fake_runner(model)
    prior = hand_prior(run_epoch(hook, runner, BATCHES))
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    assert 'distill_losses.gkl.class_prior' in model.state_dict()

    fresh = build()
    torch.testing.assert_close(fresh.distill_losses['gkl'].class_prior, torch.full((3, 3), 1 / 3))
    ckpt = torch.load(path, weights_only=False)
    check_checkpoint(fresh, ckpt, str(path), complete=True)  # what CompatibilityCheckHook runs on resume
    load_checkpoint(fresh, str(path), strict=True)  # mmengine's loader of resume / load_from
    torch.testing.assert_close(fresh.distill_losses['gkl'].class_prior, prior)


def test_fresh_losses_load_lazily_created_buffers():
    """A loss built without num_classes (class_prior None) or a cost loads the saved tensors, no unexpected key."""
    prior = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    saved = GeneralizedKLLoss(class_prior=prior).state_dict()
    fresh = GeneralizedKLLoss()
    assert 'class_prior' not in fresh.state_dict()
    fresh.load_state_dict(saved, strict=True)
    torch.testing.assert_close(fresh.class_prior, prior)
    cost = torch.rand(3, 3)
    wkd = WassersteinKDLoss()
    wkd.load_state_dict(WassersteinKDLoss(cost_matrix=cost).state_dict(), strict=True)
    torch.testing.assert_close(wkd.cost_matrix, cost)
    # a loss without the saved tensor keeps None, and strict loading of an empty dict still works
    GeneralizedKLLoss().load_state_dict({}, strict=True)


class Toy(torch.utils.data.Dataset):

    def __init__(self):
        self.x, self.samples = batch(8, seed=3, labels=[0, 1, 2, 0, 1, 2, 0, 1])

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return self.x[i], self.samples[i]


def collate(items):
    return dict(inputs=torch.stack([x for x, _ in items]), data_samples=[s for _, s in items])


def runner(work_dir, max_epochs, resume=False):
    loader = torch.utils.data.DataLoader(Toy(), batch_size=4, shuffle=False, collate_fn=collate)
    return Runner(model=build(), work_dir=str(work_dir), train_dataloader=loader,
                  train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1), logger=None),
                  custom_hooks=[dict(type='DistillEpochHook')], resume=resume,
                  experiment_name=f'kd-{uuid.uuid4().hex}', default_scope='visiondiv')


def test_real_runner_resume_continues_warmup_and_prior(tmp_path):
    first = runner(tmp_path, max_epochs=1)
    first.train()
    prior1 = first.model.distill_losses['gkl'].class_prior.clone()
    assert not torch.allclose(prior1, torch.full((3, 3), 1 / 3))
    saved = torch.load(tmp_path / 'epoch_1.pth', weights_only=False)['state_dict']
    torch.testing.assert_close(saved['distill_losses.gkl.class_prior'], prior1)

    second = runner(tmp_path, max_epochs=2, resume=True)
    seen = []
    second.model.distill_losses['gkl'].register_forward_pre_hook(
        lambda m, args: seen.append((m.class_prior.clone(), m.warmup_factor)))
    dkd_factors = []
    second.model.distill_losses['dkd'].register_forward_pre_hook(lambda m, args: dkd_factors.append(m.warmup_factor))
    second.train()
    assert second.epoch == 2 and len(seen) == 2
    for prior, _ in seen:  # epoch 2 trained with epoch 1's prior, restored from the checkpoint
        torch.testing.assert_close(prior, prior1)
    assert dkd_factors == [0.5, 0.5]  # set_epoch(2) of 4


def test_wkd_decay_is_set_from_the_runner_epoch():
    """WKD's cosine decay: set_epoch(runner.epoch + 1); a fresh model (a resumed run) gets it from the epoch alone."""
    def wkd_model():
        torch.manual_seed(0)
        return MODELS.build(dict(type='SingleTeacherDistill', architecture=stub(), teacher=stub(channels=8),
                                 distill_losses=dict(wkd=dict(type='WassersteinKDLoss', wd_weight=600.0,
                                                              wd_decay=dict(start_epoch=150, end_epoch=240)))))
    hook = DistillEpochHook()
    for epoch, factor in ((0, 1.0), (149, 1.0), (179, 0.75), (194, 0.5), (209, 0.25), (239, 0.0)):
        runner = fake_runner(wkd_model(), epoch=epoch)  # mmengine's runner.epoch counts from 0
        hook.before_train(runner)
        hook.before_train_epoch(runner)
        wkd = runner.model.distill_losses['wkd']
        assert wkd.wd_factor == pytest.approx(factor, abs=1e-12)
        assert runner.message_hub.get_scalar('train/wkd_wd_decay').current() == pytest.approx(factor, abs=1e-12)
    # the factor is no tensor of the state dict: nothing to save, it is recomputed from the restored epoch
    assert not any('wd_factor' in k for k in wkd_model().state_dict())


def test_an_interrupted_epoch_is_summed_once():
    """An epoch that restarts in the same process (a crash caught, training re-entered) counts each batch once."""
    model = build().train()
    hook, runner = DistillEpochHook(), fake_runner(model)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    model.loss(*BATCHES[0])
    hook.after_train_iter(runner, 0)  # the first batch, then the crash
    seen = run_epoch(hook, runner, BATCHES)  # the epoch from its start
    torch.testing.assert_close(model.distill_losses['gkl'].class_prior, hand_prior(seen))


class KillAt(Hook):
    """Raise after iteration ``at`` (1-based), once CheckpointHook (VERY_LOW) has saved it: a killed run."""
    priority = 'LOWEST'

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            raise KeyboardInterrupt('killed')


def test_real_runner_resumes_a_mid_epoch_checkpoint(tmp_path):
    """Killed after the first of epoch 2's two iterations (iter_3.pth), resumed: mmengine re-runs epoch 2 from its
    first batch with the checkpoint's prior (epoch 1's), and the prior after epoch 2 is the uninterrupted run's."""
    reference = runner(tmp_path / 'ref', max_epochs=2)
    reference.train()
    prior2 = reference.model.distill_losses['gkl'].class_prior.clone()

    killed = Runner(model=build(), work_dir=str(tmp_path / 'run'),
                    train_dataloader=torch.utils.data.DataLoader(Toy(), batch_size=4, shuffle=False,
                                                                 collate_fn=collate),
                    train_cfg=dict(by_epoch=True, max_epochs=2), optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=3, by_epoch=False),
                                       logger=None),
                    custom_hooks=[dict(type='DistillEpochHook'), KillAt(3)],
                    experiment_name=f'kd-{uuid.uuid4().hex}', default_scope='visiondiv')
    with pytest.raises(KeyboardInterrupt):
        killed.train()
    prior1 = killed.model.distill_losses['gkl'].class_prior.clone()  # published after epoch 1
    saved = torch.load(tmp_path / 'run' / 'iter_3.pth', weights_only=False)
    assert saved['meta']['epoch'] == 1 and saved['meta']['iter'] == 3
    torch.testing.assert_close(saved['state_dict']['distill_losses.gkl.class_prior'], prior1)

    resumed = runner(tmp_path / 'run', max_epochs=2, resume=True)
    seen = []
    resumed.model.distill_losses['gkl'].register_forward_pre_hook(lambda m, args: seen.append(m.class_prior.clone()))
    resumed.train()
    assert resumed.epoch == 2 and len(seen) == 2  # epoch 2 ran whole, both batches, with epoch 1's prior
    for prior in seen:
        torch.testing.assert_close(prior, prior1)
    torch.testing.assert_close(resumed.model.distill_losses['gkl'].class_prior, prior2)
