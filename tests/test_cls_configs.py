"""The classification base configs (CIFAR-100, resnet8x4 / resnet32x4) build, and their data path runs.

The data path runs on a tiny generated CIFAR-100 tree through the pipeline, the model's data preprocessor and one
loss / predict / Accuracy step; no training.
"""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator

from visiondiv.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from visiondiv.utils.config_check import check_config

ROOT = osp.join(osp.dirname(__file__), '..')
BASE = osp.join(ROOT, 'configs', '_base_')


def compose(model: str) -> Config:
    cfg = Config.fromfile(osp.join(BASE, 'models', f'{model}.py'))
    cfg.merge_from_dict(Config.fromfile(osp.join(BASE, 'datasets', 'cifar100_cls.py')).to_dict())
    cfg.default_scope = 'visiondiv'
    return cfg


def cifar100_tree(root, n: int = 6) -> None:
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for name in ('train', 'test'):
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump({'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         'fine_labels': [int(i * 17 % 100) for i in range(n)]}, f)
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump({'fine_label_names': [f'c{k}' for k in range(100)]}, f)


@pytest.mark.parametrize('model, params', [('resnet8x4_cifar', 1_233_540), ('resnet32x4_cifar', 7_433_860)])
def test_model_configs_build(model, params):
    cfg = compose(model)
    net = MODELS.build(cfg.model)
    assert type(net).__name__ == 'ImageClassifier' and net.head.num_classes == 100
    assert sum(p.numel() for p in net.parameters()) == params
    assert [TRANSFORMS.build(t).__class__.__name__ for t in cfg.train_pipeline] == \
        ['RandomCrop', 'RandomFlip', 'PackClsInputs']
    assert METRICS.build(cfg.val_evaluator).topk == (1, 5)


def test_configs_pass_the_config_check(tmp_path):
    cfg = compose('resnet8x4_cifar')
    cfg.work_dir = str(tmp_path)
    check_config(cfg)


def test_data_path_on_a_tiny_cifar100(tmp_path):
    cifar100_tree(str(tmp_path))
    cfg = compose('resnet8x4_cifar')
    model = MODELS.build(cfg.model)
    for loader, training in ((cfg.train_dataloader, True), (cfg.val_dataloader, False)):
        dataset = DATASETS.build(dict(loader.dataset, data_root=str(tmp_path)))
        assert len(dataset) == 6 and len(dataset.metainfo['classes']) == 100
        data = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(2)]), training)
        assert data['inputs'].shape == (2, 3, 32, 32) and data['inputs'].dtype == torch.float32
        assert abs(data['inputs'].mean().item()) < 0.5  # normalised
        if training:
            losses = model(**data, mode='loss')
            assert set(losses) == {'loss'} and torch.isfinite(losses['loss'])
        else:
            model.eval()
            evaluator = Evaluator(METRICS.build(cfg.val_evaluator))
            evaluator.process(model(**data, mode='predict'))
            assert set(evaluator.evaluate(2)) == {'accuracy/top1', 'accuracy/top5'}
