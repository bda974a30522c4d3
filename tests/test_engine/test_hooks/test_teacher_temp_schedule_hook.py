"""TeacherTempScheduleHook: SimGCD's linear warm-up of the teacher temperature, in a fake and a real runner."""
import types
import uuid

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.runner import Runner

from visiondiv.engine.hooks import TeacherTempScheduleHook, teacher_temp_at
from visiondiv.registry import HOOKS


def closed_form(epoch, start=0.07, final=0.04, warmup=30):
    """SimGCD's schedule: linear over ``warmup`` points (the last one already final), then constant."""
    return start + (final - start) * epoch / (warmup - 1) if epoch < warmup else final


class DistillLoss(nn.Module):

    def __init__(self):
        super().__init__()
        self.teacher_temp = None


class GCDModel(BaseModel):
    """Records the temperature its loss module has at each training step."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.loss_cluster = DistillLoss()
        self.seen = []

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.fc(inputs)
        if mode == 'loss':
            self.seen.append(self.loss_cluster.teacher_temp)
            return dict(loss=nn.functional.cross_entropy(out, labels))
        return out


class Toy(torch.utils.data.Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.full((2,), float(i)), labels=torch.tensor(i % 2))


def fake_runner(model, epoch):
    return types.SimpleNamespace(model=model, epoch=epoch, message_hub=MessageHub(f'tt-{uuid.uuid4().hex}'))


@pytest.mark.parametrize('epoch', [0, 1, 15, 29, 30, 100])
def test_teacher_temp_at_is_the_linear_warmup(epoch):
    assert teacher_temp_at(epoch, 0.07, 0.04, 30) == pytest.approx(closed_form(epoch), rel=1e-14)


def test_short_and_no_warmup():
    assert [teacher_temp_at(e, 0.07, 0.04, 0) for e in (0, 5)] == [0.04, 0.04]
    assert [teacher_temp_at(e, 0.07, 0.04, 1) for e in (0, 1)] == [0.07, 0.04]   # linspace of one point: the start
    assert [teacher_temp_at(e, 0.1, 0.05, 2) for e in (0, 1, 2)] == [0.1, 0.05, 0.05]


@pytest.mark.parametrize('wrap', [False, True])
@pytest.mark.parametrize('epoch', [0, 1, 15, 29, 30, 100])
def test_hook_sets_and_logs_the_temperature(epoch, wrap):
    model = GCDModel()
    runner = fake_runner(nn.DataParallel(model) if wrap else model, epoch)
    TeacherTempScheduleHook().before_train_epoch(runner)
    assert model.loss_cluster.teacher_temp == pytest.approx(closed_form(epoch), rel=1e-14)
    assert runner.message_hub.get_scalar('train/teacher_temp').current() == model.loss_cluster.teacher_temp


def test_in_a_runner_and_on_resume(tmp_path):
    def runner(max_epochs, resume):
        return Runner(model=GCDModel(), work_dir=str(tmp_path), experiment_name=f'tt-{uuid.uuid4().hex}',
                      train_dataloader=dict(dataset=Toy(), sampler=dict(type='DefaultSampler', shuffle=False),
                                            batch_size=2, collate_fn=dict(type='default_collate')),
                      train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
                      optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)), resume=resume,
                      default_scope='visiondiv', default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
                      custom_hooks=[dict(type='TeacherTempScheduleHook', warmup_teacher_temp=0.1, teacher_temp=0.05,
                                         warmup_epochs=3)])
    first = runner(2, resume=False)
    first.train()
    expected = [closed_form(e, 0.1, 0.05, 3) for e in range(4)]
    np.testing.assert_allclose(first.model.seen, np.repeat(expected[:2], 2), rtol=1e-14)
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'Epoch(train) [2][2/2]' in log and 'teacher_temp: 0.0750' in log      # printed by the LoggerHook
    resumed = runner(4, resume=True)            # continues at epoch 2 from the last checkpoint
    resumed.train()
    np.testing.assert_allclose(resumed.model.seen, np.repeat(expected[2:], 2), rtol=1e-14)
    assert resumed.message_hub.get_scalar('train/teacher_temp').current() == 0.05


def test_registered_and_priority():
    assert HOOKS.get('TeacherTempScheduleHook') is TeacherTempScheduleHook
    assert TeacherTempScheduleHook(priority='LOW').priority == 'LOW'


@pytest.mark.parametrize('kwargs, match', [
    (dict(teacher_temp=0.0), 'teacher_temp must be a finite number > 0'),
    (dict(warmup_teacher_temp=-0.07), 'warmup_teacher_temp must be a finite number > 0'),
    (dict(teacher_temp=float('nan')), 'teacher_temp must be a finite number > 0'),
    (dict(warmup_epochs=-1), 'warmup_epochs must be an integer >= 0'),
    (dict(warmup_epochs=2.5), 'warmup_epochs must be an integer >= 0'),
    (dict(loss_attr=''), 'loss_attr must be a non-empty str'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TeacherTempScheduleHook(**kwargs)


def test_bad_epoch_and_missing_attributes():
    with pytest.raises(ValueError, match='epoch must be an integer >= 0'):
        teacher_temp_at(-1)
    with pytest.raises(AttributeError, match=r"model \(Linear\) has no attribute 'loss_cluster'"):
        TeacherTempScheduleHook().before_train(fake_runner(nn.Linear(2, 2), 0))
    model = GCDModel()
    model.loss_cluster = nn.Identity()
    with pytest.raises(AttributeError, match=r"model.loss_cluster \(Identity\) has no attribute 'teacher_temp'"):
        TeacherTempScheduleHook().before_train_epoch(fake_runner(model, 0))
    with pytest.raises(AttributeError, match=r"model.loss_cluster \(Identity\) has no attribute 'head'"):
        TeacherTempScheduleHook(loss_attr='loss_cluster.head').before_train_epoch(fake_runner(model, 0))


def test_iteration_based_loop_is_refused(tmp_path):
    runner = Runner(model=GCDModel(), work_dir=str(tmp_path), experiment_name=f'tt-{uuid.uuid4().hex}',
                    train_dataloader=dict(dataset=Toy(), sampler=dict(type='DefaultSampler', shuffle=False),
                                          batch_size=2, collate_fn=dict(type='default_collate')),
                    train_cfg=dict(by_epoch=False, max_iters=2), optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    default_scope='visiondiv', default_hooks=dict(checkpoint=None),
                    custom_hooks=[dict(type='TeacherTempScheduleHook')])
    with pytest.raises(ValueError, match='scheduled per epoch, but the train loop is an IterBasedTrainLoop'):
        runner.train()
    assert runner.model.seen == []
