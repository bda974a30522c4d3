"""SingleTeacherDistill on the real classification stack: resnet32x4 -> resnet8x4 (CIFAR-100 base configs).

One optimiser step per loss (KD, DKD, GKL, WKD) through mmengine's ``train_step`` with the teacher loaded from
a checkpoint (``teacher_ckpt``); the loss keys, the frozen teacher, student-only prediction, and the student
extracted by ``tools/model_converters/distill_to_student.py`` loading strictly into its own config.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement

from tests.script_loader import load_script
from visiondiv.registry import MODELS

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')
LOSSES = {
    'kd': dict(type='KDLoss', tau=4.0, loss_weight=0.9),
    'dkd': dict(type='DKDLoss', tau=4.0, alpha=1.0, beta=8.0, warmup_epochs=20),
    'gkl': dict(type='GeneralizedKLLoss', alpha=16.0, beta=1.0, gamma=0.05, tau=4.0, tau_weight=4.0,
                warmup_epochs=20),
    'wkd': dict(type='WassersteinKDLoss', tau=8.0, wd_weight=600.0, kappa=1.0),
}


def model_cfg(name: str) -> dict:
    return Config.fromfile(osp.join(MODELS_DIR, f'{name}.py')).model.to_dict()


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    torch.manual_seed(1)
    teacher = MODELS.build(model_cfg('resnet32x4_cifar'))
    path = tmp_path_factory.mktemp('teacher') / 'resnet32x4.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), path)
    return str(path), {k: v.clone() for k, v in teacher.state_dict().items()}


def data_batch(n: int = 4, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    images = [torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8) for _ in range(n)]
    labels = torch.randint(0, 100, (n,), generator=g)
    return dict(inputs=images, data_samples=[BaseDataElement(gt_label=labels[i:i + 1]) for i in range(n)])


def build(name: str, ckpt: str):
    torch.manual_seed(0)
    return MODELS.build(dict(type='SingleTeacherDistill', architecture=model_cfg('resnet8x4_cifar'),
                             teacher=model_cfg('resnet32x4_cifar'), teacher_ckpt=ckpt,
                             student_loss_weight=0.1 if name == 'kd' else 1.0,
                             distill_losses={name: copy.deepcopy(LOSSES[name])}))


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_train_step_predict_and_student_extraction(name, teacher_ckpt, tmp_path):
    ckpt, teacher_state = teacher_ckpt
    model = build(name, ckpt)
    # the checkpoint is the teacher; init_weights (run by the Runner) leaves it alone
    model.init_weights()
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, teacher_state[key], msg=key)
    student_before = {k: v.clone() for k, v in model.architecture.state_dict().items()}
    model.train()
    assert not model.teacher.training and model.architecture.training
    optim = OptimWrapper(torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05,
                                         momentum=0.9, weight_decay=5e-4))
    calls = {'student': 0, 'teacher': 0}
    hooks = [getattr(model, attr).head.register_forward_hook(
        lambda *_, who=who: calls.__setitem__(who, calls[who] + 1))
        for attr, who in (('architecture', 'student'), ('teacher', 'teacher'))]
    log_vars = {k: torch.as_tensor(v).detach() for k, v in model.train_step(data_batch(), optim).items()}
    for h in hooks:
        h.remove()
    # each head ran once: the student's logits are those of its own head.loss, not recomputed
    assert calls == {'student': 1, 'teacher': 1}
    assert set(log_vars) == {'loss', 'student.loss', f'distill.loss_{name}'}
    assert all(torch.isfinite(v) for v in log_vars.values())
    assert float(log_vars[f'distill.loss_{name}']) > 0
    torch.testing.assert_close(log_vars['loss'], log_vars['student.loss'] + log_vars[f'distill.loss_{name}'])
    # the teacher is frozen: weights and BN statistics unchanged; the student moved
    assert all(not p.requires_grad for p in model.teacher.parameters())
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, teacher_state[key], msg=key)
    assert not torch.equal(model.architecture.backbone.conv1.weight, student_before['backbone.conv1.weight'])
    assert not torch.equal(model.architecture.head.fc.weight, student_before['head.fc.weight'])
    # the teacher logits kept for DistillEpochHook
    assert model.last_teacher_logits.shape == (4, 100)

    # predict is the student's own
    model.eval()
    data = model.data_preprocessor(data_batch(seed=1), False)
    preds = model(**data, mode='predict')
    own = model.architecture(**model.architecture.data_preprocessor(data_batch(seed=1), False), mode='predict')
    for a, b in zip(preds, own):
        torch.testing.assert_close(a.pred_score, b.pred_score)
        assert int(a.pred_label) == int(b.pred_label)
    torch.testing.assert_close(model(data['inputs'], mode='tensor'), model.architecture(data['inputs']))

    # the student of a wrapper checkpoint loads strictly into a student built from its own config
    src, dst = tmp_path / 'epoch_1.pth', tmp_path / 'student.pth'
    torch.save(dict(meta=dict(cfg='wrapper', dataset_meta=dict(classes=tuple(map(str, range(100))))),
                    state_dict=model.state_dict()), src)
    load_script('tools', 'model_converters', 'distill_to_student.py').main([str(src), str(dst)])
    student = MODELS.build(model_cfg('resnet8x4_cifar'))
    load_checkpoint(student, str(dst), map_location='cpu', strict=True)
    student.eval()
    torch.testing.assert_close(student(data['inputs']), model(data['inputs']))
