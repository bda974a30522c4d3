"""benchmarks/result_tables.py: the README result regions match runs.json; --check catches stale ones."""
import json
import re
import shutil

import pytest

from tests.script_loader import ROOT, load_script


def load():
    return load_script('benchmarks', 'result_tables.py')


def test_repository_readmes_are_up_to_date(capsys):
    tables = load()
    assert tables.main(['--check']) == 0, capsys.readouterr().out
    # every study is quoted somewhere, so a re-measured runs.json reaches the READMEs
    text = ''.join(open(p, encoding='utf-8').read() for p in tables.default_files())
    for study in tables.STUDIES:
        assert f'<!-- results:{study}' in text


def test_study_tables_match_their_table_md():
    """The study scripts write table.md with the same functions; the committed files agree."""
    tables = load()
    for study, fn in tables.STUDIES.items():
        with open(f'{ROOT}/benchmarks/results/{study}/table.md', encoding='utf-8') as f:
            assert fn(tables.load_runs(study)) == f.read(), study


def test_study_scripts_format_with_the_shared_functions():
    for script, fn in (('loss_study.py', 'loss_study_table'), ('sfda_study.py', 'sfda_study_table'),
                       ('crossmodal_study.py', 'crossmodal_study_table'), ('gcd_study.py', 'gcd_study_table')):
        study = load_script('benchmarks', script)
        assert getattr(study, fn).__code__.co_filename.endswith('benchmarks/result_tables.py'), script
        assert not hasattr(study, 'fmt')            # no second copy of the cell formatting


def _fake_results(tmp_path):
    results = tmp_path / 'results'
    shutil.copytree(f'{ROOT}/benchmarks/results/loss_study', results / 'loss_study',
                    ignore=shutil.ignore_patterns('*_seed*'))
    return results


def test_regions_are_rewritten_and_check_fails_when_stale(tmp_path, capsys):
    tables = load()
    results = _fake_results(tmp_path)
    readme = tmp_path / 'README.md'
    readme.write_text('intro\n\n<!-- results:loss_study rows=KFIoU|KLD -->\nold table\n<!-- /results -->\n\nend\n',
                      encoding='utf-8')
    args = [str(readme), '--results-dir', str(results)]
    assert tables.main(args + ['--check']) == 1
    assert 'README.md: results table is stale' in capsys.readouterr().out
    assert 'old table' in readme.read_text(encoding='utf-8')               # --check changes nothing
    assert tables.main(args) == 0
    text = readme.read_text(encoding='utf-8')
    body = text.split('-->\n', 1)[1].split('<!-- /results -->')[0]
    lines = body.splitlines()
    assert lines[0].startswith('| loss | mAP50 |') and [ln.split(' | ')[0] for ln in lines[2:]] == ['| KFIoU', '| KLD']
    assert text.startswith('intro\n\n<!-- results:loss_study rows=KFIoU|KLD -->\n') and text.endswith('\n\nend\n')
    assert tables.main(args + ['--check']) == 0

    # a re-measured runs.json makes the README stale again
    runs = json.loads((results / 'loss_study' / 'runs.json').read_text(encoding='utf-8'))
    for r in runs:
        if r['loss'] == 'KLD':
            r['mAP50'] = 0.5
    (results / 'loss_study' / 'runs.json').write_text(json.dumps(runs), encoding='utf-8')
    assert tables.main(args + ['--check']) == 1
    tables.main(args)
    assert re.search(r'\| KLD \| 0\.500( ± 0\.000)? \|', readme.read_text(encoding='utf-8'))


def test_mean_std_shows_no_spread_for_one_run():
    tables = load()
    assert tables.mean_std([0.5]) == '0.500'
    assert tables.mean_std([0.4, 0.6]) == '0.500 ± 0.141'


def test_errors_name_the_file(tmp_path):
    tables = load()
    results = _fake_results(tmp_path)
    readme = tmp_path / 'R.md'
    readme.write_text('<!-- results:loss_study rows=KLD|Nope -->\n<!-- /results -->\n', encoding='utf-8')
    with pytest.raises(KeyError, match=r"R\.md.*'Nope'"):
        tables.main([str(readme), '--results-dir', str(results)])
    readme.write_text('<!-- results:no_such_study -->\n<!-- /results -->\n', encoding='utf-8')
    with pytest.raises(KeyError, match=r'R\.md.*no_such_study'):
        tables.main([str(readme), '--results-dir', str(results)])
    readme.write_text('<!-- results:sfda_study -->\n<!-- /results -->\n', encoding='utf-8')
    with pytest.raises(FileNotFoundError, match='sfda_study'):
        tables.main([str(readme), '--results-dir', str(results)])


def test_sfda_cells_count_empty_seeds():
    tables = load()
    nan = float('nan')
    runs = {f'{row}/{s}': {'mdice': d, 'dice_organ': d, 'dice_lesion': d, 'massd': a}
            for row, vals in {'source only': [(0.2, 3.0), (0.4, 5.0)], 'oracle': [(0.8, 1.0), (0.8, 1.0)],
                              'AdaEnt': [(0.0, nan), (0.0, 7.0)]}.items()
            for s, (d, a) in enumerate(vals)}
    text = tables.sfda_study_table(runs, ['source only', 'AdaEnt', 'oracle'])
    assert '| AdaEnt | 0.000 ± 0.000 | 0.000 ± 0.000 | 0.000 ± 0.000 | 7.000 (1 empty) |' in text
    assert '| source only | 0.300 ± 0.141 |' in text
    assert text.endswith('Seeds [0, 1]. Fraction of the mean-Dice gap (source only → oracle) closed: AdaEnt -60%.\n')
    assert tables.sfda_study_means(runs, 'AdaEnt') == {'mdice': 0.0, 'dice_organ': 0.0, 'dice_lesion': 0.0,
                                                       'massd': 7.0}


def test_crossmodal_table_acceptance_line_closed_form():
    """Two seeds of made-up runs: the cells are mean ± sample std and the acceptance line's ratio and
    differences are computed from the seed means."""
    tables = load()
    dice = {'MR only': (0.5, 0.6), 'MR + standard aug.': (0.5, 0.5), 'MR + raw CT': (0.4, 0.4),
            'MR + histogram-matched CT': (0.6, 0.6), 'MR + pseudo-MR, CycleGAN': (0.6, 0.62),
            'MR + pseudo-MR, tumour-aware': (0.7, 0.66)}
    kl = {'MR + raw CT': (0.8, 1.0), 'MR + pseudo-MR, tumour-aware': (0.1, 0.2)}
    runs = {}
    for row, values in dice.items():
        for seed, d in enumerate(values):
            runs[f'{row}/{seed}'] = dict(dice_tumour=d, hd95_tumour=10.0, volume_ratio_tumour=1.0,
                                         missed_tumour=seed, volumes=12)
            if row in kl:
                runs[f'{row}/{seed}']['intensity_kl'] = kl[row][seed]
    text = tables.crossmodal_study_table(runs)
    assert '| MR + pseudo-MR, tumour-aware | 0.150 ± 0.071 | 0.680 ± 0.028 | 10.000 ± 0.000 |' in text
    assert '| MR only | – | 0.550 ± 0.071 |' in text and '| 1 / 24 |' in text
    assert 'KL = 6.0 (goal ≥ 5)' in text                       # 0.9 / 0.15
    assert 'Dice = +0.130 (goal ≥ +0.05)' in text              # 0.68 - 0.55
    assert 'CycleGAN Dice = +0.070 (goal > 0)' in text         # 0.68 - 0.61
    assert tables.crossmodal_study_means(runs, 'MR + raw CT') == {
        'Dice tumour': 0.4, 'HD95 tumour': 10.0, 'volume ratio': 1.0, 'intensity KL': 0.9}


def test_gcd_table_acceptance_line_closed_form():
    """Two seeds of made-up runs on one dataset: mean ± sample std cells, differences of seed means."""
    tables = load()
    runs = {}
    for seed in (0, 1):
        for arm in tables.GCD_STUDY_ARMS:
            runs[f'digits | {arm}/{seed}'] = {'All': 80.0, 'Old': 90.0, 'New': 70.0, 'v1/All': 81.0, 'epoch': 30}
    runs['digits | LegoGCD/0'].update(Old=95.0, New=66.0)
    runs['digits | LegoGCD/1'].update(Old=93.0, New=70.0)
    runs['digits | SimGCD/1'].update(New=72.0)
    rows = [f'digits | {a}' for a in tables.GCD_STUDY_ARMS]
    text = tables.gcd_study_table(runs, rows)
    assert '| digits | LegoGCD | 80.00 ± 0.00 | 94.00 ± 1.41 | 68.00 ± 2.83 | 81.00 ± 0.00 |' in text
    # Old: 94 - 90; New: 68 - 71; stds: sqrt(8) and sqrt(2)
    assert 'Acceptance, digits: LegoGCD − SimGCD Old = +4.00 (goal ≥ 0); New = -3.00' in text
    assert "LegoGCD's New std 2.83, SimGCD's 1.41" in text
    assert tables.gcd_study_means(runs, 'digits | LegoGCD') == {'All': 80.0, 'Old': 94.0, 'New': 68.0}
    with pytest.raises(KeyError, match='MNIST-5k'):
        tables.gcd_study_table(runs)


def test_gcd_study_parses_the_last_validation_of_a_log():
    study = load_script('benchmarks', 'gcd_study.py')
    log = ('11/23 - mmengine - INFO - Epoch(val) [10][3/3]    All: 78.5400  Old: 94.9000  New: 70.3100  '
           'v1/All: 78.5400  data_time: 0.0142  time: 0.0374\n'
           '11/23 - mmengine - INFO - Epoch(val) [30][3/3]    All: 89.3800  Old: 98.0000  New: 85.0400  '
           'v2b/All: 91.5700  v1/All: 88.0000  data_time: 0.0137  time: 0.0345\n')
    assert study.parse_gcd_metrics(log) == {'All': 89.38, 'Old': 98.0, 'New': 85.04, 'v2b/All': 91.57,
                                            'v1/All': 88.0, 'epoch': 30}
    with pytest.raises(ValueError, match='no validation'):
        study.parse_gcd_metrics('nothing here')
