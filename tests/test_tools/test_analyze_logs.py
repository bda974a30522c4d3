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


TRAIN_RECORDS = [   # tools/train.py's <timestamp>/vis_data/scalars.json: training iterations carry 'iter'
    dict(lr=2e-4, data_time=0.052, grad_norm=1.62, loss=2.0856, loss_cls=1.1275, loss_bbox=0.9581, time=0.9078,
         epoch=1, iter=1, step=1),
    dict(lr=2.2e-4, data_time=0.046, grad_norm=1.46, loss=2.0667, loss_cls=1.1257, loss_bbox=0.9410, time=0.7409,
         epoch=1, iter=2, step=2),
    dict(lr=2.4e-4, data_time=0.046, grad_norm=1.56, loss=2.0466, loss_cls=1.1230, loss_bbox=0.9236, time=0.7353,
         epoch=2, iter=3, step=3),
    dict(lr=2.5e-4, data_time=0.042, grad_norm=1.87, loss=2.0202, loss_cls=1.1188, loss_bbox=0.9014, time=0.7316,
         epoch=2, iter=4, step=4),
    # the validation epoch: step is the epoch, and its time is a validation iteration's
    {'dota/mAP': 0.25, 'dota/AP50': 0.4, 'dota/AP75': 0.1, 'data_time': 0.028, 'time': 0.1987, 'step': 2},
]


def demo_work_dir(root):
    """A work dir as `make demo` leaves it: a training run, then a (newer) tools/test.py run, checkpoints."""
    wd = root / 'toy_kld'
    train, test = wd / '20261207_064021', wd / '20261207_064033'
    (train / 'vis_data').mkdir(parents=True)
    (test / 'vis_data').mkdir(parents=True)
    (test / 'vis').mkdir()
    lines = '\n'.join(json.dumps(r) for r in TRAIN_RECORDS) + '\n'
    (train / 'vis_data' / 'scalars.json').write_text(lines)
    (train / 'vis_data' / '20261207_064021.json').write_text(lines)
    (train / 'vis_data' / 'config.py').write_text('')
    (train / '20261207_064021.log').write_text('')
    # a test run writes <timestamp>/<timestamp>.json beside its log, and no scalars.json
    (test / '20261207_064033.json').write_text(json.dumps({'dota/mAP': 0.3, 'dota/AP50': 0.5, 'time': 2.1}) + '\n')
    (test / '20261207_064033.log').write_text('')
    (test / 'vis_data' / 'config.py').write_text('')
    (test / 'vis' / 'P0000.png').write_bytes(b'')
    (wd / 'epoch_2.pth').write_bytes(b'')
    (wd / 'last_checkpoint').write_text(str(wd / 'epoch_2.pth'))
    return wd


def test_documented_commands_work_on_the_demo_work_dir(tmp_path, capsys):
    """`analyze_logs.py plot_curve work_dirs/toy_kld ...` (the documented command) reads the training run."""
    mod = load()
    wd = demo_work_dir(tmp_path)
    scalars = str(wd / '20261207_064021' / 'vis_data' / 'scalars.json')
    out = tmp_path / 'curves.png'
    plotted = mod.main(['plot_curve', str(wd), '--keys', 'loss', 'dota/AP50', '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    train = [r for r in TRAIN_RECORDS if 'iter' in r]
    assert plotted[scalars, 'loss'] == (tuple(r['step'] for r in train), tuple(r['loss'] for r in train))
    assert plotted[scalars, 'dota/AP50'] == ((2,), (0.4,))          # at the epoch it was validated
    # the run folder and the file name the same data
    assert mod.main(['plot_curve', str(wd / '20261207_064021'), '--out', str(out)])[scalars, 'loss'] == \
        plotted[scalars, 'loss']
    capsys.readouterr()
    mod.main(['cal_train_time', str(wd)])
    times = [r['time'] for r in train]            # training iterations only, not the validation record's 0.1987
    assert capsys.readouterr().out.strip() == (f'{scalars}: mean {sum(times) / 4:.4f} s/iter, '
                                               f'slowest {max(times):.4f}, fastest {min(times):.4f}')
    assert mod.load_scalars(scalars)['val/time'] == [(2, 0.1987)]


def test_a_folder_without_training_scalars_is_named(tmp_path):
    mod = load()
    wd = demo_work_dir(tmp_path)
    test_run = wd / '20261207_064033'
    with pytest.raises(FileNotFoundError, match=f'{test_run}: no <timestamp>/vis_data/scalars.json'):
        mod.main(['cal_train_time', str(test_run)])
    with pytest.raises(FileNotFoundError, match='log not found'):
        mod.main(['cal_train_time', str(tmp_path / 'nope')])
