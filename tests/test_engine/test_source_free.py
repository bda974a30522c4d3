"""The SFDA adaptation run opens no source file and no target training label."""
import os.path as osp

import nibabel
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.script_loader import load_script
from visiondiv.registry import MODELS


def test_adaptation_run_reads_no_source_data(tmp_path, monkeypatch):
    root = tmp_path / 'toy_shift'
    load_script('tools', 'data', 'toy_shift.py').generate(str(root), num_train=2, num_test=1, shape=(4, 32, 32),
                                                           seed=3)
    cfg = Config.fromfile('configs/sfda/sfda_unet-gn_200it_toy-shift.py')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = str(root)
        cfg[key].batch_size = 2
    # a "source model" checkpoint: the same network, saved as mmengine does
    source_ckpt = str(tmp_path / 'source.pth')
    model = MODELS.build(Config.fromfile('configs/sfda/source_unet-gn_600it_toy-shift.py').model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), source_ckpt)
    cfg.load_from = source_ckpt
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 2, 2
    cfg.default_hooks.checkpoint.interval = 2

    opened = []
    real_load = nibabel.load
    monkeypatch.setattr(nibabel, 'load', lambda path, *a, **k: opened.append(str(path)) or real_load(path, *a, **k))
    runner = Runner.from_cfg(cfg)   # as tools/train.py builds it; the config's SourceFreeCheckHook passes
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()

    rel = [osp.relpath(p, root) for p in opened]
    assert any(p.startswith(osp.join('target', 'train', 'images')) for p in rel)
    assert not [p for p in rel if p.startswith('source')], rel
    assert not [p for p in rel if p.startswith(osp.join('target', 'train', 'labels'))], rel
    # the only labels read are the target test labels, for validation
    assert {osp.dirname(p) for p in rel if 'labels' in p} <= {osp.join('target', 'test', 'labels')}
    # and the adaptation did update the network from the source weights
    after = runner.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
