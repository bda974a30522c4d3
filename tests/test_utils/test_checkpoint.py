"""Checkpoint loading: files named on failure, and the fit check against the model."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

import visiondiv.utils.checkpoint as checkpoint_module
from tests.script_loader import ROOT
from visiondiv.utils.checkpoint import CheckpointMismatchError, check_checkpoint_fits, load_from_local
from visiondiv.registry import MODELS

CONFIGS = osp.join(ROOT, 'configs')
RETINA = osp.join(CONFIGS, 'kld', 'rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_16e_toy-dota.py')
FCOS = osp.join(CONFIGS, 'rotated_fcos', 'rotated-fcos-le90_r18-tiny_fpn_kld_16e_toy-dota.py')
UNET = osp.join(CONFIGS, '_base_', 'models', 'unet_seg.py')


def build(config, **model_options):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_options.items()})
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def counted(model):
    """The model's state-dict tensors the check counts (torch fills in num_batches_tracked itself)."""
    return [k for k in model.state_dict() if not k.endswith('num_batches_tracked')]


def save(tmp_path, name, model, **extra):
    path = tmp_path / name
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict(), **extra), str(path))
    return str(path)


@pytest.fixture
def warnings_logged(monkeypatch):
    messages = []
    monkeypatch.setattr(checkpoint_module, 'print_log', lambda msg, **kw: messages.append(msg))
    return messages


def test_load_from_local_reads_mmengine_checkpoints_and_names_missing_file(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    # numpy content is what torch's restricted (weights_only) loader refuses in mmengine checkpoints
    torch.save({'meta': {'epoch': 1, 'seed': np.int64(3)}, 'w': torch.ones(3)}, str(path))
    ckpt = load_from_local(str(path))
    assert ckpt['meta']['epoch'] == 1 and torch.equal(ckpt['w'], torch.ones(3))
    with pytest.raises(FileNotFoundError, match='checkpoint not found: .*missing.pth'):
        load_from_local(str(tmp_path / 'missing.pth'))


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_truncated_checkpoint_is_named(tmp_path):
    path = str(tmp_path / 'epoch_3.pth')
    torch.save({'state_dict': {'w': torch.ones(1000)}}, path)
    truncate(path)
    # torch's own message ("failed finding central directory") does not say which file
    with pytest.raises(RuntimeError, match=r'epoch_3\.pth: cannot read this checkpoint.*central directory'):
        load_from_local(path)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    detector = build(RETINA)
    unet_ckpt = save(tmp_path, 'unet.pth', build(UNET))
    total = len(counted(detector))
    with pytest.raises(CheckpointMismatchError) as err:
        check_checkpoint_fits(detector, torch.load(unet_ckpt, weights_only=False), unet_ckpt)
    msg = str(err.value)
    assert msg.startswith(f'{unet_ckpt}: not a checkpoint of this model: 0 of the model\'s {total} tensors')
    assert f'{total} missing from the checkpoint (backbone.conv1.weight' in msg


def test_head_with_other_num_classes_loads_with_a_warning(tmp_path, warnings_logged):
    """The README's fine-tune: a 3-class checkpoint into a 2-class head. RetinaNet's classifier has
    num_anchors * num_classes outputs, with 2 scales x 3 ratios = 6 anchors per place."""
    ckpt = torch.load(save(tmp_path, 'dota.pth', build(RETINA)), weights_only=False)
    model = build(RETINA, **{'bbox_head.num_classes': 2})
    match = check_checkpoint_fits(model, ckpt, 'dota.pth')
    assert match.mismatched == [('bbox_head.retina_cls.weight', (18, 64, 3, 3), (12, 64, 3, 3)),
                                ('bbox_head.retina_cls.bias', (18,), (12,))]
    assert len(match.matched) == len(counted(model)) - 2 and not match.missing and not match.unexpected
    assert warnings_logged == ["dota.pth: loaded in part: {} of the model's {} tensors matched by name and "
                               "shape; 2 with another shape, checkpoint vs model (bbox_head.retina_cls.weight "
                               "(18, 64, 3, 3) vs (12, 64, 3, 3), bbox_head.retina_cls.bias (18,) vs (12,))"
                               .format(len(counted(model)) - 2, len(counted(model)))]
    # evaluating with a classifier left at random is refused
    with pytest.raises(CheckpointMismatchError, match='dota.pth: does not cover the whole model'):
        check_checkpoint_fits(model, ckpt, 'dota.pth', complete=True)


def test_other_detector_fine_tunes_but_is_not_evaluated(tmp_path):
    """The toy RetinaNet into the toy FCOS: backbone and neck match, the head does not."""
    retina = build(RETINA)
    fcos = build(FCOS)
    shared = [k for k in counted(fcos) if k in retina.state_dict()
              and retina.state_dict()[k].shape == fcos.state_dict()[k].shape]
    assert len(shared) >= len(counted(fcos)) / 2
    ckpt = dict(state_dict=retina.state_dict())
    assert len(check_checkpoint_fits(fcos, ckpt, 'retina.pth').matched) == len(shared)
    with pytest.raises(CheckpointMismatchError, match=f"retina.pth: does not cover .* {len(shared)} of the "
                                                      f"model's {len(counted(fcos))} tensors"):
        check_checkpoint_fits(fcos, ckpt, 'retina.pth', complete=True)


def test_threshold_is_half_of_the_model_tensors():
    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(4)])     # 8 tensors
    state = model.state_dict()
    half = {k: v for i, (k, v) in enumerate(state.items()) if i < 4}
    assert len(check_checkpoint_fits(model, half, 'half.pth').matched) == 4
    with pytest.raises(CheckpointMismatchError, match=r"half.pth: .*3 of the model's 8 tensors.*at least 50%"):
        check_checkpoint_fits(model, dict(list(half.items())[:3]), 'half.pth')
    # a DDP-saved checkpoint ('module.' prefix) is matched as mmengine loads it
    assert len(check_checkpoint_fits(model, {'module.' + k: v for k, v in state.items()}, 'ddp.pth',
                                     complete=True).matched) == 8
