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


# ----- the classes a checkpoint was trained on (issue 21, item 2)

TOY = ('ship', 'tank', 'plane')


def with_classes(model, classes=TOY, key='dataset_meta'):
    meta = dict(dataset_meta=dict(classes=classes)) if key == 'dataset_meta' else dict(CLASSES=list(classes))
    return dict(meta=meta, state_dict={k: v.clone() for k, v in model.state_dict().items()})


def test_classifier_parameters_are_the_rows_per_anchor_and_class():
    assert checkpoint_module.classifier_parameters(build(RETINA)) == {
        'bbox_head.retina_cls.weight': (3, 3), 'bbox_head.retina_cls.bias': (3, 3)}     # 6 anchors x 3 = 18 rows
    assert checkpoint_module.classifier_parameters(build(FCOS)) == {
        'bbox_head.conv_cls.weight': (3, 3), 'bbox_head.conv_cls.bias': (3, 3)}         # anchor-free: 3 rows
    assert checkpoint_module.classifier_parameters(build(UNET)) == {}                     # no dense head


def test_checkpoint_classes_from_mmengine_and_old_meta():
    model = nn.Linear(2, 3)
    assert checkpoint_module.checkpoint_classes(with_classes(model)) == TOY
    assert checkpoint_module.checkpoint_classes(with_classes(model, key='CLASSES')) == TOY     # mmdet 2.x
    assert checkpoint_module.checkpoint_classes(dict(state_dict={})) is None


@pytest.mark.parametrize('config', [RETINA, FCOS])
def test_reordered_classes_are_refused_then_remapped_row_by_row(config, warnings_logged):
    model = build(config)
    ckpt = with_classes(model)
    order = ('tank', 'plane', 'ship')
    with pytest.raises(CheckpointMismatchError) as err:
        checkpoint_module.check_checkpoint(model, ckpt, 'toy.pth', complete=True, classes=order,
                                           classes_source='test_dataloader.dataset')
    assert str(err.value).startswith(
        "toy.pth: trained on the classes ('ship', 'tank', 'plane') (its meta.dataset_meta.classes) but "
        "test_dataloader.dataset has ('tank', 'plane', 'ship'): the same names in another order")
    assert 'remap_classes=True' in str(err.value)
    checkpoint_module.check_checkpoint(model, ckpt, 'toy.pth', complete=True, classes=order, remap_classes=True)
    name = next(iter(checkpoint_module.classifier_parameters(model)))
    before, after = model.state_dict()[name], ckpt['state_dict'][name]
    priors = before.shape[0] // 3
    for a in range(priors):
        for i, c in enumerate(order):                     # the model's class i is the checkpoint's class c
            assert torch.equal(after[a * 3 + i], before[a * 3 + TOY.index(c)])
    others = [k for k in model.state_dict() if not k.startswith(name.rsplit('.', 1)[0])]
    assert all(torch.equal(ckpt['state_dict'][k], model.state_dict()[k]) for k in others)


def test_softmax_head_keeps_its_background_row():
    head = nn.Module()
    head.num_classes, head.cls_out_channels, head.num_base_priors = 2, 3, 2       # 2 classes + background
    head.fc_cls = nn.Linear(4, 6)
    model = nn.Sequential()
    model.add_module('bbox_head', head)
    ckpt = with_classes(model, ('a', 'b'))
    checkpoint_module.check_checkpoint(model, ckpt, 'x.pth', classes=('b', 'a'), remap_classes=True)
    rows = model.state_dict()['bbox_head.fc_cls.bias']
    assert torch.equal(ckpt['state_dict']['bbox_head.fc_cls.bias'], rows[[1, 0, 2, 4, 3, 5]])


def test_other_names_refused_unless_ignored_or_another_number_of_classes(warnings_logged):
    model = build(RETINA)
    other = ('car', 'truck', 'bus')
    with pytest.raises(CheckpointMismatchError, match=r"toy.pth: trained on the classes \('ship', 'tank', "
                                                      r"'plane'\) .* has \('car', 'truck', 'bus'\): other names\. "
                                                      r"remap_classes=True cannot help.*ignore_checkpoint_classes"):
        checkpoint_module.check_checkpoint(model, with_classes(model), 'toy.pth', classes=other, remap_classes=True)
    checkpoint_module.check_checkpoint(model, with_classes(model), 'toy.pth', classes=other,
                                       ignore_checkpoint_classes=True)
    assert 'loaded as it is (ignore_checkpoint_classes=True)' in warnings_logged[-1]
    # a 2-class fine-tune from the 3-class checkpoint: the classifier has another shape, nothing to refuse
    two = build(RETINA, **{'bbox_head.num_classes': 2})
    checkpoint_module.check_checkpoint(two, with_classes(model), 'toy.pth', classes=('car', 'bus'))
    with pytest.raises(CheckpointMismatchError, match='does not cover the whole model'):
        checkpoint_module.check_checkpoint(two, with_classes(model), 'toy.pth', complete=True, classes=('car', 'bus'))


def test_class_options_are_booleans_and_exclusive():
    assert checkpoint_module.class_options({}) == dict(remap_classes=False, ignore_checkpoint_classes=False)
    with pytest.raises(TypeError, match="cfg.py: remap_classes must be True or False, got 'yes'"):
        checkpoint_module.class_options(dict(remap_classes='yes'), 'cfg.py')
    with pytest.raises(ValueError, match='not both'):
        checkpoint_module.class_options(dict(remap_classes=True, ignore_checkpoint_classes=True))


def test_load_checkpoint_checked_loads_what_fits(tmp_path):
    source = build(RETINA)
    path = str(tmp_path / 'toy.pth')
    torch.save(with_classes(source), path)
    torch.manual_seed(1)
    model = MODELS.build(Config.fromfile(RETINA).model)
    ckpt = checkpoint_module.load_checkpoint_checked(model, path, classes=TOY)
    assert checkpoint_module.checkpoint_classes(ckpt) == TOY
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in model.state_dict().items())
    two = build(RETINA, **{'bbox_head.num_classes': 2})
    head = two.bbox_head.retina_cls.weight.detach().clone()
    checkpoint_module.load_checkpoint_checked(two, path, complete=False)        # fine-tune: the rest loads
    assert torch.equal(two.bbox_head.retina_cls.weight, head)
    assert torch.equal(two.backbone.conv1.weight, source.backbone.conv1.weight)
