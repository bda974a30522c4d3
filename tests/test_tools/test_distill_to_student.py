"""tools/model_converters/distill_to_student.py: a SingleTeacherDistill checkpoint -> the student's own weights."""
import pytest
import torch

from tests.distill_fixtures import StubClassifier, batch, stub
from tests.script_loader import load_script
from visiondiv.registry import MODELS
from visiondiv.utils.checkpoint import load_checkpoint_checked


def load():
    return load_script('tools', 'model_converters', 'distill_to_student.py')


def wrapper():
    torch.manual_seed(0)
    return MODELS.build(dict(type='SingleTeacherDistill', architecture=stub(), teacher=stub(channels=8),
                             distill_losses=dict(gkl=dict(type='GeneralizedKLLoss'),
                                                 wkd=dict(type='WassersteinKDLoss'))))


@pytest.mark.parametrize('ddp', [False, True])
def test_converted_student_loads_strictly(tmp_path, capsys, ddp):
    model = wrapper().train()
    model.loss(*batch())  # updates the student BN statistics, which must come along
    with torch.no_grad():
        model.architecture.bn.running_mean.add_(0.5)
    state = {('module.' if ddp else '') + k: v for k, v in model.state_dict().items()}
    meta = dict(cfg='model = dict(type="SingleTeacherDistill")', dataset_meta=dict(classes=('a', 'b', 'c')))
    src, dst = tmp_path / 'epoch_1.pth', tmp_path / 'out' / 'student.pth'
    torch.save(dict(meta=meta, state_dict=state, optimizer=dict(state={})), src)
    load().main([str(src), str(dst)])
    assert f'{dst}: {len(StubClassifier().state_dict())} student tensors' in capsys.readouterr().out
    out = torch.load(dst, weights_only=False)
    assert set(out) == {'meta', 'state_dict'} and out['meta'] == dict(dataset_meta=dict(classes=('a', 'b', 'c')))
    student = StubClassifier()
    student.load_state_dict(out['state_dict'], strict=True)
    student.eval(), model.eval()
    x, _ = batch()
    torch.testing.assert_close(student(x), model(x))
    # and through the project's checked loader, every tensor required, classes compared
    fresh = StubClassifier()
    load_checkpoint_checked(fresh, str(dst), complete=True, classes=('a', 'b', 'c'))
    torch.testing.assert_close(fresh.eval()(x), model(x))
    assert [p.name for p in dst.parent.iterdir()] == ['student.pth']  # atomic write left no temporary file


def test_refuses_a_checkpoint_without_a_student(tmp_path):
    src = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=StubClassifier().state_dict()), src)
    with pytest.raises(KeyError, match=r'plain\.pth: no architecture\.\* keys'):
        load().main([str(src), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load().main([str(tmp_path / 'missing.pth'), str(tmp_path / 'out.pth')])
