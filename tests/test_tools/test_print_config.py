"""tools/misc/print_config.py prints and saves the merged config."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from mmengine.config import Config

from tests.script_loader import ROOT, load_script

CONFIG = f'{ROOT}/configs/kfiou/rotated-retinanet-hbox-oc_r50_fpn_kfiou_1x_dota.py'


def load():
    return load_script('tools', 'misc', 'print_config.py')


def test_prints_merged_config_with_overrides(capsys):
    tool = load()
    tool.main([CONFIG, '--cfg-options', 'model.bbox_head.num_classes=2', 'train_dataloader.batch_size=8'])
    out = capsys.readouterr().out
    assert out.startswith('Config:\n')
    # values from the _base_ chain (rotated_retinanet -> _base_/models) are resolved, overrides applied
    assert "type='RotatedRetinaHead'" in out and 'num_classes=2' in out and 'num_classes=15' not in out
    assert 'batch_size=8' in out
    assert not re.search(r'^_base_ *=', out, re.M)   # bases are merged, not listed


def test_save_path_round_trips(tmp_path, capsys):
    tool = load()
    dst = tmp_path / 'merged.py'
    tool.main([CONFIG, '--cfg-options', 'model.bbox_head.num_classes=4', '--save-path', str(dst)])
    saved = Config.fromfile(str(dst))
    direct = tool.merged_config(CONFIG, {'model.bbox_head.num_classes': 4})
    assert saved.model.bbox_head.num_classes == 4
    assert saved.model.to_dict() == direct.model.to_dict()
    assert saved.train_dataloader.to_dict() == direct.train_dataloader.to_dict()


def test_errors_name_the_file(tmp_path):
    tool = load()
    with pytest.raises(FileNotFoundError, match='nope.py'):
        tool.main([str(tmp_path / 'nope.py')])
    with pytest.raises(ValueError, match=r'merged\.txt'):
        tool.main([CONFIG, '--save-path', str(tmp_path / 'merged.txt')])


def test_option_train_refuses_is_refused_with_a_non_zero_exit(tmp_path):
    """Before: print_config printed batch_size='abc' and exited 0 where tools/train.py refused the option."""
    tool = load()
    with pytest.raises(TypeError, match=f"--cfg-options train_dataloader.batch_size='abc': expected a number like "
                                        f"the config's int 2 \\(as train_dataloader.batch_size in {CONFIG}\\)"):
        tool.main([CONFIG, '--cfg-options', 'train_dataloader.batch_size=abc'])
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'misc', 'print_config.py'), CONFIG,
                             '--cfg-options', 'train_dataloader.batch_size=abc', '--save-path',
                             str(tmp_path / 'merged.py')], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0
    assert "train_dataloader.batch_size='abc'" in result.stderr and 'Config:' not in result.stdout
    assert not (tmp_path / 'merged.py').exists()
