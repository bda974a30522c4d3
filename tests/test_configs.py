"""Every shipped config loads, passes the config check and builds its model."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from visiondiv.registry import MODELS
from visiondiv.utils import check_config

ROOT = osp.join(osp.dirname(__file__), '..')
CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')) if '_base_' not in c)


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(c) for c in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    check_config(cfg)
    assert cfg.default_scope == 'visiondiv'
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
