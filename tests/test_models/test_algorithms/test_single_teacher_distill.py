"""SingleTeacherDistill: loss keys, frozen vs trainable teacher, student-only inference, checked teacher loading."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from tests.distill_fixtures import StubClassifier, batch, stub
from visiondiv.models.algorithms import SingleTeacherDistill
from visiondiv.models.losses import DKDLoss, KDLoss, classifier_cost
from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import CheckpointMismatchError

ALL_LOSSES = dict(
    kd=dict(type='KDLoss', tau=2.0),
    dkd=dict(type='DKDLoss', beta=2.0, warmup_epochs=2),
    loss_gkl=dict(type='GeneralizedKLLoss'),
    wkd=dict(type='WassersteinKDLoss'),
    bdkd=dict(type='BalancedKDLoss'))


def teacher_file(tmp_path, **kwargs):
    torch.manual_seed(1)
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=StubClassifier(**kwargs).state_dict(), meta=dict()), path)
    return str(path)


def build(tmp_path=None, losses=None, teacher=None, **kwargs):
    torch.manual_seed(0)
    if teacher is None:
        teacher = stub(channels=8)
    return MODELS.build(dict(type='SingleTeacherDistill', architecture=stub(), teacher=teacher,
                             distill_losses=copy.deepcopy(ALL_LOSSES if losses is None else losses), **kwargs))


def data(n=6, seed=0):
    x, samples = batch(n, seed=seed)
    return dict(inputs=x, data_samples=samples)


def test_loss_keys_and_values(tmp_path):
    model = build(teacher_ckpt=teacher_file(tmp_path, channels=8)).train()
    assert isinstance(model, SingleTeacherDistill)
    x, samples = batch()
    losses = model.loss(x, samples)
    assert set(losses) == {'student.loss', 'student.accuracy', 'distill.loss_kd', 'distill.loss_dkd',
                           'distill.loss_gkl', 'distill.loss_wkd', 'distill.loss_bdkd'}
    with torch.no_grad():
        s = model.architecture.head(model.architecture.extract_feat(x))
        t = model.teacher.head(model.teacher.extract_feat(x))
    labels = torch.cat([d.gt_label for d in samples])
    torch.testing.assert_close(losses['distill.loss_kd'], KDLoss(tau=2.0)(s, t))
    torch.testing.assert_close(losses['distill.loss_dkd'], DKDLoss(beta=2.0)(s, t, labels))
    torch.testing.assert_close(losses['student.loss'], torch.nn.functional.cross_entropy(s, labels))
    # the losses got fixed-shape state from the models: a uniform class prior, the teacher classifier's cost
    torch.testing.assert_close(model.distill_losses['loss_gkl'].class_prior, torch.full((3, 3), 1 / 3))
    torch.testing.assert_close(model.distill_losses['wkd'].cost_matrix, classifier_cost(model.teacher.head.fc.weight))
    # the wrapper keeps what DistillEpochHook accumulates
    torch.testing.assert_close(model.last_teacher_logits, t)
    assert model.last_gt_labels.tolist() == labels.tolist()


def test_weights_scale_the_losses():
    model = build(losses=dict(kd=dict(type='KDLoss')))
    x, samples = batch()
    ref = model.loss(x, samples)
    model.student_loss_weight, model.loss_weights['kd'] = 0.1, 3.0
    scaled = model.loss(x, samples)
    torch.testing.assert_close(scaled['student.loss'], 0.1 * ref['student.loss'])
    torch.testing.assert_close(scaled['student.accuracy'], ref['student.accuracy'])  # not a loss
    torch.testing.assert_close(scaled['distill.loss_kd'], 3.0 * ref['distill.loss_kd'])
    with pytest.raises(ValueError, match='loss_weights names'):
        build(losses=dict(kd=dict(type='KDLoss')), loss_weights=dict(dkd=1.0))


def test_only_the_student_learns_and_teacher_bn_stays(tmp_path):
    model = build(teacher_ckpt=teacher_file(tmp_path, channels=8))
    model.train()
    assert model.training and model.architecture.training and not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    teacher0 = copy.deepcopy(model.teacher.state_dict())
    student0 = copy.deepcopy(model.architecture.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    for seed in range(2):
        log = model.train_step(data(seed=seed), optim)
    assert {'loss', 'student.loss', 'distill.loss_kd'} <= set(log)
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, teacher0[k], msg=k)  # weights and BN running_mean/var/num_batches
    assert model.teacher.bn.num_batches_tracked.item() == 0
    changed = [k for k, v in model.architecture.state_dict().items() if not torch.equal(v, student0[k])]
    assert 'conv.weight' in changed and 'head.fc.weight' in changed and 'bn.running_mean' in changed
    # eval then train again: the teacher stays in eval
    model.eval().train()
    assert not model.teacher.training


def test_trainable_teacher_learns_online():
    model = build(losses=dict(bdkd=dict(type='BalancedKDLoss', teacher_trainable=True)), teacher_trainable=True)
    model.train()
    assert model.teacher.training
    x, samples = batch()
    losses = model.loss(x, samples)
    assert {'teacher.loss', 'teacher.accuracy', 'distill.loss_bdkd', 'student.loss'} <= set(losses)
    # the BD-KD term alone sends gradients to the teacher
    losses['distill.loss_bdkd'].backward()
    assert model.teacher.head.fc.weight.grad is not None and model.teacher.head.fc.weight.grad.abs().sum() > 0
    model.zero_grad()
    teacher0 = copy.deepcopy(model.teacher.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    model.train_step(data(), optim)
    assert not torch.equal(model.teacher.head.fc.weight, teacher0['head.fc.weight'])
    assert not torch.equal(model.teacher.bn.running_mean, teacher0['bn.running_mean'])


def test_predict_and_tensor_are_the_students(tmp_path):
    model = build(teacher_ckpt=teacher_file(tmp_path, channels=8)).eval()
    x, _ = batch()
    got = model(x, batch()[1], mode='predict')
    ref = model.architecture(x, batch()[1], mode='predict')
    for a, b in zip(got, ref):
        torch.testing.assert_close(a.pred_score, b.pred_score)
        assert a.pred_label.tolist() == b.pred_label.tolist()
    torch.testing.assert_close(model(x), model.architecture(x))
    assert model.data_preprocessor is model.architecture.data_preprocessor
    with pytest.raises(RuntimeError, match='invalid mode'):
        model(x, mode='features')


def test_teacher_from_config_file_and_init_weights_keep_ckpt(tmp_path):
    cfg = tmp_path / 'teacher_cfg.py'
    cfg.write_text("model = dict(type='DistillStubClassifier', channels=8)\n")
    ckpt = teacher_file(tmp_path, channels=8)
    model = build(teacher=str(cfg), teacher_ckpt=ckpt)
    saved = torch.load(ckpt, weights_only=False)['state_dict']
    model.init_weights()
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, saved[k], msg=k)
    with pytest.raises(FileNotFoundError, match='teacher: config file not found'):
        build(teacher=str(tmp_path / 'nope.py'))


def test_refuses_another_class_count_at_build():
    with pytest.raises(ValueError, match=r'architecture\.head\.num_classes is 3 but teacher\.head\.num_classes '
                                         r'is 5'):
        build(teacher=stub(num_classes=5))


def test_refuses_teacher_ckpt_of_another_architecture(tmp_path):
    ckpt = teacher_file(tmp_path, channels=16)  # the teacher is built with channels=8
    with pytest.raises(CheckpointMismatchError, match='teacher_ckpt') as err:
        build(teacher_ckpt=ckpt)
    assert ckpt in str(err.value) and 'conv.weight (16, 3, 3, 3) vs (8, 3, 3, 3)' in str(err.value)


def test_refuses_teacher_ckpt_of_another_class_count(tmp_path):
    ckpt = teacher_file(tmp_path, channels=8, num_classes=5)
    with pytest.raises(CheckpointMismatchError, match='teacher_ckpt') as err:
        build(teacher_ckpt=ckpt)
    assert 'head.fc.weight (5, 8) vs (3, 8)' in str(err.value) and 'head.fc.bias (5,) vs (3,)' in str(err.value)


def test_refuses_missing_teacher_ckpt(tmp_path):
    path = str(tmp_path / 'missing_teacher.pth')
    with pytest.raises(FileNotFoundError, match='teacher_ckpt not found') as err:
        build(teacher_ckpt=path)
    assert path in str(err.value)


def test_refuses_nan_teacher_logits():
    model = build(losses=dict(kd=dict(type='KDLoss')))
    with torch.no_grad():
        model.teacher.head.fc.bias[1] = float('nan')
    with pytest.raises(ValueError, match=r'SingleTeacherDistill: 6 of 18 values of the teacher logits'):
        model.loss(*batch())
    with torch.no_grad():
        model.teacher.head.fc.bias[1] = float('inf')
    with pytest.raises(ValueError, match=r"the teacher logits \(teacher\.head output\) are not finite \(0 NaN, 6 inf"):
        model.loss(*batch())


def test_labels_only_when_a_loss_needs_them():
    from mmengine.structures import BaseDataElement
    model = build(losses=dict(kd=dict(type='KDLoss'), dkd=dict(type='DKDLoss')))
    x, _ = batch(2)
    samples = [BaseDataElement(gt_label=torch.tensor([0, 1])), BaseDataElement(gt_label=torch.tensor([1]))]
    model.architecture.head.loss = lambda feats, ds: dict(loss=model.architecture.head(feats).sum())
    with pytest.raises(ValueError, match='data sample 0 has 2 labels'):
        model.loss(x, samples)
    del model.distill_losses['dkd']
    assert set(model.loss(x, samples)) == {'student.loss', 'distill.loss_kd'}
