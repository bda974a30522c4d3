"""CompatibilityCheckHook in mmengine's Runner: every path that loads weights, and the classes check."""
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from visiondiv.engine import CompatibilityCheckHook
from visiondiv.utils.checkpoint import CheckpointMismatchError
from visiondiv.registry import HOOKS
from visiondiv.utils import ConfigCheckError


class Head(nn.Module):

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.fc = nn.Linear(4, num_classes)


class Detector(BaseModel):
    """backbone + bbox_head, the layout the classes check reads."""

    def __init__(self, num_classes=3, width=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(2, width), nn.Linear(width, 4))
        self.bbox_head = Head(num_classes)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.bbox_head.fc(self.backbone(inputs))
        if mode == 'loss':
            return dict(loss=nn.functional.cross_entropy(out, labels))
        return out


class Other(nn.Module):
    """Another architecture: no name in common with Detector."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(2, 4)
        self.decoder = nn.Linear(4, 3)


class Toy(Dataset):
    metainfo = dict(classes=('ship', 'tank', 'plane'))

    def __init__(self, classes=None):
        if classes is not None:
            self.metainfo = dict(classes=classes)
        gen = torch.Generator().manual_seed(0)
        self.items = [dict(inputs=torch.randn(2, generator=gen), labels=torch.tensor(i % 2)) for i in range(4)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def runner(work_dir, model, load_from=None, resume=False, classes=None, complete=False, test=False, **options):
    data = dict(dataset=Toy(classes), sampler=dict(type='DefaultSampler', shuffle=False), batch_size=2,
                collate_fn=dict(type='default_collate'))
    loops = dict(test_dataloader=data, test_cfg=dict(), test_evaluator=[]) if test else dict(
        train_dataloader=data, train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)))
    return Runner(model=model, work_dir=str(work_dir), experiment_name=f'check-{uuid.uuid4().hex}',
                  load_from=load_from, resume=resume, default_scope='visiondiv', default_hooks=dict(checkpoint=None),
                  custom_hooks=[dict(type='CompatibilityCheckHook', complete_checkpoint=complete, **options)], **loops)


def save(path, model):
    torch.save(dict(meta=dict(epoch=1, iter=2), state_dict=model.state_dict()), str(path))
    return str(path)


def test_registered():
    assert HOOKS.get('CompatibilityCheckHook') is CompatibilityCheckHook


@pytest.mark.parametrize('how', ['load_from', 'resume', 'test'])
def test_checkpoint_of_another_model_stops_every_loading_path(tmp_path, how):
    ckpt = save(tmp_path / 'other.pth', Other())
    r = runner(tmp_path / 'w', Detector(), load_from=ckpt, resume=how == 'resume', test=how == 'test',
               complete=how != 'load_from')
    with pytest.raises(CheckpointMismatchError, match=r"other.pth: not a checkpoint of this model: 0 of the "
                                                      r"model's 6 tensors"):
        r.test() if how == 'test' else r.train()


def test_fine_tune_with_other_num_classes_loads_the_rest(tmp_path):
    source = Detector(num_classes=5)
    ckpt = save(tmp_path / 'src.pth', source)
    model = Detector(num_classes=3)
    head_before = model.bbox_head.fc.weight.detach().clone()
    r = runner(tmp_path / 'w', model, load_from=ckpt)
    r.load_or_resume()                      # what train() does after before_run
    loaded = r.model.state_dict()
    for k, v in source.backbone.state_dict().items():
        assert torch.equal(loaded['backbone.' + k], v)
    assert torch.equal(loaded['bbox_head.fc.weight'], head_before)     # shape mismatch: kept, as mmdet does


def test_test_needs_the_whole_model(tmp_path):
    ckpt = save(tmp_path / 'src.pth', Detector(num_classes=5))
    with pytest.raises(CheckpointMismatchError, match='src.pth: does not cover the whole model'):
        runner(tmp_path / 'w', Detector(num_classes=3), load_from=ckpt, test=True, complete=True).test()


def test_dataset_classes_and_head_must_agree(tmp_path):
    r = runner(tmp_path / 'w', Detector(num_classes=3), classes=('ship', 'tank'))
    with pytest.raises(ConfigCheckError, match=r"train_dataloader.dataset has 2 classes \(metainfo.classes = "
                                               r"\('ship', 'tank'\)\) but model.bbox_head.num_classes = 3"):
        r.train()
    assert r.iter == 0
    r = runner(tmp_path / 'w2', Detector(num_classes=3), classes=('ship', 'tank'), test=True)
    with pytest.raises(ConfigCheckError, match='test_dataloader.dataset has 2 classes'):
        r.test()
    runner(tmp_path / 'w3', Detector(num_classes=3)).train()       # 3 and 3: trains


class ClsDetector(Detector):
    """A head with mmdet's classifier attributes: ``num_classes``, ``cls_out_channels`` and ``fc_cls``."""

    def __init__(self, num_classes=3):
        super().__init__(num_classes)
        self.bbox_head.cls_out_channels = num_classes
        self.bbox_head.fc_cls = self.bbox_head.fc
        del self.bbox_head.fc

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.bbox_head.fc_cls(self.backbone(inputs))
        return dict(loss=nn.functional.cross_entropy(out, labels)) if mode == 'loss' else out


def save_with_classes(path, model, classes=('ship', 'tank', 'plane')):
    torch.save(dict(meta=dict(epoch=1, iter=2, dataset_meta=dict(classes=classes)), state_dict=model.state_dict()),
               str(path))
    return str(path)


def test_reordered_classes_are_refused_at_test_and_remapped_at_fine_tune(tmp_path):
    source = ClsDetector()
    ckpt = save_with_classes(tmp_path / 'src.pth', source)
    order = ('plane', 'ship', 'tank')
    r = runner(tmp_path / 'w', ClsDetector(), load_from=ckpt, classes=order, test=True, complete=True)
    with pytest.raises(CheckpointMismatchError, match=r"src.pth: trained on the classes \('ship', 'tank', 'plane'\) "
                                                      r".* but test_dataloader.dataset has \('plane', 'ship', "
                                                      r"'tank'\): the same names in another order"):
        r.test()
    r = runner(tmp_path / 'w2', ClsDetector(), load_from=ckpt, classes=order, remap_classes=True)
    r.train_loop                            # train() builds its loop (and dataset), then loads the checkpoint
    r.load_or_resume()
    loaded = r.model.bbox_head.fc_cls
    assert torch.equal(loaded.weight, source.bbox_head.fc_cls.weight[[2, 0, 1]])
    assert torch.equal(loaded.bias, source.bbox_head.fc_cls.bias[[2, 0, 1]])
    assert torch.equal(r.model.backbone[0].weight, source.backbone[0].weight)
