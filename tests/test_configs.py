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
    if cfg.get('load_from') and not osp.exists(cfg.load_from):
        # adaptation configs start from a source checkpoint that a previous step trains
        with pytest.raises(ValueError, match="'load_from' file not found"):
            check_config(cfg)
        cfg.load_from = None
    check_config(cfg)
    assert cfg.default_scope == 'visiondiv'
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
