"""tools/analysis_tools/benchmark.py loads its checkpoint with tools/test.py's checks (issue 21, item 1)."""
import pytest

from tests.script_loader import load_script
from tests.test_tools.test_checkpoint_classes import toy_checkpoint
from tests.test_tools.test_train_robustness import make_data, unet_checkpoint, write_config
from visiondiv.utils.checkpoint import CheckpointMismatchError


def test_times_its_checkpoint_and_refuses_another_models(tmp_path, capsys):
    make_data(tmp_path / 'data', num_train=2)
    cfg = write_config(tmp_path, tmp_path / 'data')
    bench = load_script('tools', 'analysis_tools', 'benchmark.py')
    bench.main([cfg, toy_checkpoint(tmp_path / 'toy.pth'), '--num-images', '1', '--warmup', '0', '--device', 'cpu'])
    assert '1 images on cpu' in capsys.readouterr().out
    unet = unet_checkpoint(tmp_path / 'unet.pth')               # before: loaded with a log line, then timed
    with pytest.raises(CheckpointMismatchError, match=f"{unet}: not a checkpoint of this model"):
        bench.main([cfg, unet, '--num-images', '1', '--warmup', '0', '--device', 'cpu'])
    reordered = toy_checkpoint(tmp_path / 'reordered.pth', classes=('plane', 'ship', 'tank'))
    with pytest.raises(CheckpointMismatchError, match='reordered.pth: trained on the classes .* the same names in '
                                                      'another order'):
        bench.main([cfg, reordered, '--num-images', '1', '--warmup', '0', '--device', 'cpu'])
