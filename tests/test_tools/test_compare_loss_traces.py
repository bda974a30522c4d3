"""tools/analysis_tools/compare_loss_traces.py: first differing iteration and drift per chunk."""
import json

import pytest

from tests.script_loader import load_script

tool = load_script('tools', 'analysis_tools', 'compare_loss_traces.py')


def _write(path, losses):
    path.mkdir()
    with open(path / 'loss_trace.jsonl', 'w') as f:
        for i, v in enumerate(losses):
            f.write(json.dumps({'iter': i, 'loss': v, 'loss_cls': 1.0}) + '\n')
    return str(path)


def test_identical_traces_exit_0(tmp_path, capsys):
    a, b = _write(tmp_path / 'a', [1.0, 0.5, 0.25]), _write(tmp_path / 'b', [1.0, 0.5, 0.25])
    assert tool.main([a, b]) == 0
    assert 'bit-identical over 3' in capsys.readouterr().out


def test_first_difference_and_drift(tmp_path, capsys):
    a = _write(tmp_path / 'a', [1.0, 2.0, 4.0, 8.0])
    b = _write(tmp_path / 'b', [1.0, 2.0, 4.0 * (1 + 1e-7), 6.0])
    result = tool.compare(tool.read_trace(a), tool.read_trace(b), chunks=2)
    assert result['first_diff'] == 2 and result['common'] == 4
    assert result['drift'][0] == {'iters': (0, 1), 'mean_rel_diff': 0.0}
    assert result['drift'][1]['mean_rel_diff'] == pytest.approx((1e-7 + 0.25) / 2)
    assert tool.main([a, b]) == 1
    assert 'first differs at iteration 2 of 4' in capsys.readouterr().out


def test_missing_key_names_file_and_line(tmp_path):
    a = _write(tmp_path / 'a', [1.0])
    with pytest.raises(SystemExit, match=r'line 1: no key .loss_bbox.'):
        tool.read_trace(a, 'loss_bbox')
