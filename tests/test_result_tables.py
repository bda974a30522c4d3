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
    quoted = {tables.study_of(f) for m in tables.MARKER.finditer(text) for f in m.group('study').split('+')}
    assert quoted == set(tables.STUDIES)


def test_study_tables_match_their_table_md():
    """The study scripts write table.md with the same functions; the committed files agree, the extra
    folders of a study (crossmodal_study_seeds34) included."""
    tables = load()
    folders = tables.result_folders()
    assert set(tables.STUDIES) - {'spread'} | {'crossmodal_study_seeds34', 'demo_spread'} <= set(folders)
    for folder in folders:
        with open(f'{ROOT}/benchmarks/results/{folder}/table.md', encoding='utf-8') as f:
            assert tables.study_table(folder) == f.read(), folder
    for study, fn in tables.STUDIES.items():
        if study == 'spread':  # a kind of folder (<config>_spread), not a folder
            continue
        with open(f'{ROOT}/benchmarks/results/{study}/table.md', encoding='utf-8') as f:
            assert fn(tables.load_runs(study)) == f.read(), study


def test_compare_three_cases_and_the_boundary():
    """Hand-built seeds: mean 10 ± 1 (exactly: 9, 10, 11), against rows whose gap and stds put them on
    each side of the rule; a gap equal to a std is not a win."""
    tables = load()
    a = [9.0, 10.0, 11.0]                                        # mean 10, sample std 1
    # gap 2 > both stds (1, 0.5): a win, said with the winner first whatever the order
    assert tables.compare('A', a, 'B', [7.5, 8.0, 8.5]) == 'A beats B by 2.000 (gap > both stds: 1.000, 0.500)'
    assert tables.compare('B', [7.5, 8.0, 8.5], 'A', a) == 'A beats B by 2.000 (gap > both stds: 1.000, 0.500)'
    # boundary: gap 1 equals A's std (and B's): within noise
    assert tables.compare('A', a, 'B', [8.0, 9.0, 10.0]) == 'A and B are within noise (gap +1.000, stds 1.000, 1.000)'
    # gap 1.5 beats B's std 0.5 but not A's std 2: within noise (both stds must be beaten)
    assert tables.compare('A', [8.0, 10.0, 12.0], 'B', [8.0, 8.5, 9.0], '.2f') == \
        'A and B are within noise (gap +1.50, stds 2.00, 0.50)'
    # one seed on either side: no spread, not compared, whatever the gap
    assert tables.compare('A', [10.0], 'B', [1.0]) == 'A vs B: one seed each, no spread, not compared (10.000 vs 1.000)'
    assert tables.compare('A', a, 'B', [1.0]) == 'A vs B: one seed of B, no spread, not compared (10.000 vs 1.000)'
    # lower is better (HD95): the lower mean wins; NaN seeds are left out
    assert tables.compare('A', a, 'B', [7.5, 8.0, 8.5, float('nan')], higher_is_better=False) == \
        'B beats A by 2.000 (gap > both stds: 0.500, 1.000)'
    with pytest.raises(ValueError, match="'B'"):
        tables.compare('A', a, 'B', [float('nan')])


def test_seeds_cell():
    tables = load()
    assert tables.seeds_cell([0]) == '1 (0)'
    assert tables.seeds_cell([1, 0]) == '2 (0, 1)'
    assert tables.seeds_cell([4, 0, 1, 2, 3]) == '5 (0–4)'
    assert tables.seeds_cell([0, 1, 2, 4]) == '4 (0–2, 4)'


def _machine(cpu='Intel(R) Xeon(R) Gold', cap='AVX512', threads=2, env=None, torch='2.13.0+cpu'):
    return {'cpu': cpu, 'torch': torch, 'cpu_capability': cap, 'threads': threads, 'env': env or {}}


def test_machines_line_groups_and_counts():
    tables = load()
    runs = [{'machine': _machine()}, {'machine': _machine(torch='2.14.0+cpu')}, {'machine': _machine()},
            {'machine': _machine(cap='DEFAULT', env={'ATEN_CPU_CAPABILITY': 'default'})},
            {'machine': _machine(threads=1)}, {}, {'mAP50': 0.5}]
    assert tables.machines_line(runs) == (
        'Runs: 3 on Intel(R) Xeon(R) Gold (torch 2.13.0+cpu/2.14.0+cpu, CPU capability AVX512, 2 threads); '
        '1 on Intel(R) Xeon(R) Gold (torch 2.13.0+cpu, CPU capability DEFAULT, 2 threads, '
        'ATEN_CPU_CAPABILITY=default); '
        '1 on Intel(R) Xeon(R) Gold (torch 2.13.0+cpu, CPU capability AVX512, 1 thread); '
        f'2 recorded before machine facts were kept ({tables.UNRECORDED_MACHINE}).')
    unrecorded = f'Runs: 1 recorded before machine facts were kept ({tables.UNRECORDED_MACHINE}).'
    assert tables.machines_line([{}]) == unrecorded


def test_machine_facts_do_not_break_the_means():
    """New runs carry ``machine`` (a dict) and ``seed``; the tables and the metafile means read the metrics only."""
    tables = load()
    loss = [dict(loss=name, seed=s, mAP50=0.5 + 0.1 * s + d, mAP75=0.2, angle_err_deg=3.0, ships_found=0.5,
                 iou_ship=0.6, iou_tank=0.7, iou_plane=0.7, minutes=5.0, machine=_machine())
            for s in (0, 1) for name, d in (('KLD', 0.0), ('smooth-L1', 0.4))]
    text = tables.loss_study_table(loss)
    assert '| KLD | 0.550 ± 0.071 |' in text and '| 2 (0, 1) |' in text
    assert '- mAP50: smooth-L1 beats KLD by 0.400 (gap > both stds: 0.071, 0.071)' in text     # order as in the pairs
    assert '- mAP75: KLD and smooth-L1 are within noise (gap +0.000, stds 0.000, 0.000)' in text
    assert text.endswith('Runs: 4 on Intel(R) Xeon(R) Gold (torch 2.13.0+cpu, CPU capability AVX512, 2 threads).\n')
    assert tables.loss_study_means(loss, 'KLD') == {'mAP50': 0.55, 'mAP75': 0.2}
    sfda = {f'{row}/{s}': dict(mdice=d, dice_organ=d, dice_lesion=d, massd=1.0, mhd95=2.0, missed_organ=0,
                               missed_lesion=0, volumes=4, machine=_machine())
            for s in (0, 1) for row, d in (('source only', 0.2), ('oracle', 0.8), ('SFDA', 0.7 + 0.01 * s))}
    text = tables.sfda_study_table(sfda, ['source only', 'SFDA', 'oracle'])
    assert '- mean Dice: SFDA beats source only by 0.505' in text and 'Runs: 6 on Intel' in text
    assert tables.sfda_study_means(sfda, 'SFDA')['mdice'] == 0.705


def test_merged_folders_give_rows_their_own_seeds(tmp_path):
    """Two results folders of the crossmodal study in one README region: rows get the seeds they have."""
    tables = load()
    results = tmp_path / 'results'
    main, extra = {}, {}
    for row in tables.CROSSMODAL_STUDY_ROWS:
        for seed in (0, 1):
            main[f'{row}/{seed}'] = dict(dice_tumour=0.5 + 0.1 * seed, hd95_tumour=10.0, volume_ratio_tumour=1.0,
                                         intensity_kl=0.5, missed_tumour=0, volumes=4)
    for seed in (2, 3):
        extra[f'MR only/{seed}'] = dict(main['MR only/0'], dice_tumour=0.6, machine=_machine())
    for folder, runs in (('crossmodal_study', main), ('crossmodal_study_more', extra)):
        (results / folder).mkdir(parents=True)
        (results / folder / 'runs.json').write_text(json.dumps(runs), encoding='utf-8')
    readme = tmp_path / 'README.md'
    readme.write_text('<!-- results:crossmodal_study+crossmodal_study_more -->\n<!-- /results -->\n', encoding='utf-8')
    assert tables.main([str(readme), '--results-dir', str(results)]) == 0
    text = readme.read_text(encoding='utf-8')
    assert '| MR only | 0.500 ± 0.000 | 0.575 ± 0.050 | 10.000 ± 0.000 | 1.000 ± 0.000 | 0 / 16 | 4 (0–3) |' in text
    assert '| MR + raw CT | 0.500 ± 0.000 | 0.550 ± 0.071 |' in text and '| 0 / 8 | 2 (0, 1) |' in text
    assert 'Seeds per row in the last column' in text and "Acceptance (means over each row's seeds)" in text
    assert 'Runs: 2 on Intel(R) Xeon(R) Gold (torch 2.13.0+cpu, CPU capability AVX512, 2 threads); 12 recorded' in text
    # the folders' own table.md: only the rows each has
    assert '| MR only |' in tables.study_table('crossmodal_study_more', str(results))
    assert 'CycleGAN' not in tables.study_table('crossmodal_study_more', str(results))
    # one run measured twice with different results, or folders of two studies, are refused
    (results / 'crossmodal_study_more' / 'runs.json').write_text(
        json.dumps({'MR only/0': dict(main['MR only/0'], dice_tumour=0.9)}), encoding='utf-8')
    with pytest.raises(ValueError, match="'MR only/0'"):
        tables.main([str(readme), '--results-dir', str(results)])
    readme.write_text('<!-- results:crossmodal_study+gcd_study -->\n<!-- /results -->\n', encoding='utf-8')
    with pytest.raises(KeyError, match='different studies'):
        tables.main([str(readme), '--results-dir', str(results)])


def test_study_scripts_format_with_the_shared_functions():
    for script, fn in (('loss_study.py', 'loss_study_table'), ('sfda_study.py', 'sfda_study_table'),
                       ('crossmodal_study.py', 'crossmodal_study_table'), ('gcd_study.py', 'gcd_study_table'),
                       ('demo_spread.py', 'spread_table')):
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
    table = lines[:lines.index('')]
    assert lines[0].startswith('| loss | mAP50 |') and [ln.split(' | ')[0] for ln in table[2:]] == ['| KFIoU', '| KLD']
    # the pair both rows show is compared; the pairs with smooth-L1 or GWD are not
    assert [ln.split(':')[0] for ln in lines if ln.startswith('- ')] == ['- mAP50', '- mAP75']
    assert all('KLD' in ln and 'KFIoU' in ln for ln in lines if ln.startswith('- '))
    shown = [r for r in json.loads((results / 'loss_study' / 'runs.json').read_text(encoding='utf-8'))
             if r['loss'] in ('KLD', 'KFIoU')]
    assert 'smooth-L1' not in body and lines[-1].startswith(f'Runs: {len(shown)} ')
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
    assert '\nSeeds [0, 1]. Fraction of the mean-Dice gap (source only → oracle) closed: AdaEnt -60%.\n' in text
    assert '| AdaEnt | 0.000 ± 0.000 | 0.000 ± 0.000 | 0.000 ± 0.000 | 7.000 (1 empty) | – | – | – | 2 (0, 1) |' in text
    # SFDA is not shown, so no pair of SFDA_STUDY_PAIRS is; the footer counts the six runs, none with machine facts
    assert 'Comparisons' not in text and text.endswith('\n\nRuns: 6 recorded before machine facts were kept '
                                                      f'({tables.UNRECORDED_MACHINE}).\n')
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
    # the README's pairs: 0.07 > stds 0.028 and 0.014; 0.13 > 0.028 and 0.071; 0.05 < MR only's 0.071
    assert ('- Dice: "MR + pseudo-MR, tumour-aware" beats "MR + pseudo-MR, CycleGAN" by 0.070 '
            '(gap > both stds: 0.028, 0.014)\n') in text
    assert '- Dice: "MR + pseudo-MR, tumour-aware" beats MR only by 0.130 (gap > both stds: 0.028, 0.071)\n' in text
    assert '- Dice: MR + histogram-matched CT and MR only are within noise (gap +0.050, stds 0.000, 0.071)\n' in text
    assert '| 2 (0, 1) |' in text and 'Seeds [0, 1] (each seed' in text
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
    # comparisons: New 68 ± 2.83 against 71 ± 1.41 is a loss larger than both stds; All is equal
    assert '- digits, New: SimGCD beats LegoGCD by 3.00 (gap > both stds: 1.41, 2.83)' in text
    assert '- digits, All: LegoGCD and SimGCD are within noise (gap +0.00, stds 0.00, 0.00)' in text
    assert '- digits, New: dual-view KL only and SimGCD are within noise (gap -1.00, stds 0.00, 1.41)' in text
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


def test_spread_table_rows_and_summary_closed_form():
    tables = load()
    machine = dict(cpu='CPU X', torch='2.13.0+cpu', cpu_capability='AVX512', threads=2, env={})
    runs = [dict(seed=s, path='native', mAP50=v, mAP75=0.2, minutes=5.0, machine=machine)
            for s, v in enumerate([0.90, 0.92, 0.91])]
    runs.append(dict(seed=0, path='aten-default', mAP50=0.93, mAP75=0.3, minutes=6.0,
                     machine=dict(machine, cpu_capability='DEFAULT', env={'ATEN_CPU_CAPABILITY': 'default'})))
    text = tables.spread_table(runs)
    body = text.splitlines()
    # native before aten-default, seeds in order
    assert body[2:6] == ['| native | 0 | 2 | 0.900 | 0.200 | 5.0 |', '| native | 1 | 2 | 0.920 | 0.200 | 5.0 |',
                         '| native | 2 | 2 | 0.910 | 0.200 | 5.0 |', '| aten-default | 0 | 2 | 0.930 | 0.300 | 6.0 |']
    vals = [0.90, 0.92, 0.91, 0.93]
    mean = sum(vals) / 4
    std = (sum((v - mean) ** 2 for v in vals) / 3) ** 0.5
    assert f'mAP50: range 0.900–0.930 (spread 0.030), mean {mean:.3f} ± {std:.3f}.' in text
    assert '4 runs: seeds 3 (0–2), kernel paths native, aten-default.' in text
    assert 'CPU capability DEFAULT, 2 threads, ATEN_CPU_CAPABILITY=default' in text
    assert tables.spread_means(runs) == {'mAP50': round(mean, 3), 'mAP75': 0.225}
    assert tables.spread_table(runs, ['aten-default']).count('| aten-default |') == 1
    assert tables.study_of('demo_spread') == tables.study_of('fcos_spread') == 'spread'


def test_kd_table_closed_form():
    """Two seeds of made-up runs: mean ± sample std cells, the gain and gap share from seed means, the rule's
    comparisons of each loss with the student alone and with KD."""
    tables = load()
    top1 = {'teacher': (94.0, 94.0), 'student alone': (88.0, 90.0), 'KD': (92.0, 93.0), 'DKD': (92.0, 93.4),
            'GKL': (91.0, 91.0), 'WKD-L': (93.0, 95.0), 'BD-KD (frozen teacher)': (89.0, 89.2)}
    runs = {f'{row}/{seed}': dict(top1=v, seconds=20.0 + seed, seed=seed)
            for row, values in top1.items() for seed, v in enumerate(values)}
    text = tables.kd_study_table(runs)
    assert '| teacher | 94.00 ± 0.00 | – | – | 20 | 2 (0, 1) |' in text  # 20.5 s rounds to even
    assert '| student alone | 89.00 ± 1.41 | – | – |' in text
    # KD: 92.5 - 89 = +3.5 of a 5-point gap: 70 %
    assert '| KD | 92.50 ± 0.71 | +3.50 | 70 % |' in text
    assert '| WKD-L | 94.00 ± 1.41 | +5.00 | 100 % |' in text
    assert '- KD beats student alone by 3.50 (gap > both stds: 0.71, 1.41)' in text
    # 0.2 against KD's 0.71 and DKD's 0.99: within noise; GKL below KD by 1.5 > 0.71 and 0
    assert '- DKD and KD are within noise (gap +0.20, stds 0.99, 0.71)' in text
    assert '- KD beats GKL by 1.50 (gap > both stds: 0.71, 0.00)' in text
    assert '- BD-KD (frozen teacher) and student alone are within noise (gap +0.10, stds 0.14, 1.41)' in text
    assert not re.search(r'^- KD (and|beats|vs) KD\b', text, re.M) and text.count('\n- ') == 9  # 5 vs alone, 4 vs KD
    assert tables.kd_study_means(runs, 'DKD') == {'Top 1 Accuracy': 92.7}
    with pytest.raises(KeyError, match=r"no runs for row\(s\) \['KD'\]"):
        tables.kd_study_table({k: v for k, v in runs.items() if not k.startswith('KD/')})


def test_kd_study_reads_the_last_epochs_top1():
    study = load_script('benchmarks', 'kd_study.py')
    log = ('12/07 - mmengine - INFO - Epoch(val) [20][2/2]    accuracy/top1: 88.4000  data_time: 0.0198  time: 0.07\n'
           '12/07 - mmengine - INFO - Epoch(val) [24][2/2]    accuracy/top1: 92.8000  data_time: 0.0954  time: 0.14\n')
    assert study.parse_top1(log) == {'top1': 92.8, 'epoch': 24}
    with pytest.raises(ValueError, match='the last validation is at epoch 20, not 24'):
        study.parse_top1(log.splitlines()[0])
    with pytest.raises(ValueError, match='no "Epoch'):
        study.parse_top1('Traceback ...')
