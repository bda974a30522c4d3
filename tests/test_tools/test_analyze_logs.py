import json

import pytest

from tests.script_loader import load_script


def load():
    return load_script('tools', 'analysis_tools', 'analyze_logs.py')


def test_plot_curve_and_errors(tmp_path, capsys):
    mod = load()
    log = tmp_path / 'scalars.json'
    log.write_text('\n'.join(json.dumps(dict(step=s, loss=1.0 / s, time=0.1 * s)) for s in range(1, 6)))
    series = mod.load_scalars(str(log))
    assert series['loss'][2] == (3, pytest.approx(1 / 3))
    out = tmp_path / 'c.png'
    mod.plot_curve([str(log)], ['loss'], str(out))
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    mod.cal_train_time([str(log)])
    assert 'mean 0.3000 s/iter' in capsys.readouterr().out
    with pytest.raises(KeyError, match="no key 'mAP'"):
        mod.plot_curve([str(log)], ['mAP'], str(out))
    log.write_text('{"step": 1, "loss": 1}\n{broken\n')
    with pytest.raises(ValueError, match=r'scalars\.json:2'):
        mod.load_scalars(str(log))
