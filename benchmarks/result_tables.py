"""Result tables of the benchmark studies, written from ``benchmarks/results/<study>/runs.json``.

The formatting lives here only: ``loss_study.py`` and ``sfda_study.py`` write their
``table.md`` with these functions, and this script rewrites the regions of the config
READMEs that are marked with::

    <!-- results:loss_study -->                 the whole table
    <!-- results:loss_study rows=KFIoU|KLD -->  only these rows, in this order ('|'-separated)
    <!-- results:crossmodal_study+crossmodal_study_seeds34 -->  several results folders of one study,
                                                               merged into one table ('+'-separated)
    ...generated, do not edit...
    <!-- /results -->

Every table shows the seeds of each row, compares the rows its README compares with one rule
(:func:`compare`: a win needs two seeds or more per row and a gap larger than both sample stds), and ends
with the machines its runs came from (:func:`machines_line`).

Usage::

    python benchmarks/result_tables.py             # rewrite the marked regions of configs/*/README.md and
                                                   # every benchmarks/results/<folder>/table.md
    python benchmarks/result_tables.py --check     # exit 1 and name the stale files (CI)
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
import sys
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS_DIR = osp.join(ROOT, 'benchmarks', 'results')

#: loss-study rows in table order (the names are the ``loss`` field of runs.json)
LOSS_STUDY_ROWS = ('smooth-L1', 'GWD', 'KLD', 'KFIoU')
#: sfda-study rows in table order (runs.json keys are ``'<row>/<seed>'``)
SFDA_STUDY_ROWS = ('source only', 'AdaEnt', 'Tent', 'SFDA', 'SFDA, KL(prior‖pred)', 'SFDA, per-image KL', 'oracle')
#: sfda-study means in table order (``MedicalVolumeMetric`` keys; ASSD and HD95 in mm)
SFDA_KEYS = ('mdice', 'dice_organ', 'dice_lesion', 'massd', 'mhd95')
#: the toy set's structures, whose ``missed_<class>`` counts the table shows
SFDA_CLASSES = ('organ', 'lesion')

MARKER = re.compile(r'<!-- results:(?P<study>[\w+-]+)(?: rows=(?P<rows>[^>]*?))? -->\n(?P<body>.*?)<!-- /results -->',
                    re.DOTALL)


def mean_std(values: Sequence[float], fmt: str = '.3f') -> str:
    """``'mean ± std'`` (sample std); one value alone, with no spread to show. Undefined values (NaN: e.g. an
    angle error when no ship was found) are left out and counted: ``'0.5 (1 of 2 seeds)'``; all undefined: ``'–'``."""
    defined = [v for v in values if v == v]
    note = '' if len(defined) == len(values) else f' ({len(defined)} of {len(values)} seeds)'
    if not defined:
        return '–'
    if len(defined) == 1:
        return f'{defined[0]:{fmt}}{note}'
    return f'{statistics.mean(defined):{fmt}} ± {statistics.stdev(defined):{fmt}}{note}'


def compare(name_a: str, values_a: Sequence[float], name_b: str, values_b: Sequence[float], fmt: str = '.3f',
            higher_is_better: bool = True) -> str:
    """One sentence comparing two rows from their per-seed values, the rule every table uses.

    A row wins only when both rows have two seeds or more and the gap of the means is larger than each
    row's sample std (a gap equal to a std is not a win); otherwise the two are within noise, and with
    one seed on either side there is no spread to judge by, so they are not compared. NaN values (no
    defined value on that seed) are left out.

    Args:
        name_a: the first row's name.
        values_a: its values, one per seed.
        name_b: the second row's name.
        values_b: its values, one per seed.
        fmt: format of the numbers.
        higher_is_better: False for metrics such as HD95, where the lower mean wins.

    Returns:
        str: ``'A beats B by X (gap > both stds: sA, sB)'``, ``'A and B are within noise (gap X, stds sA, sB)'``
        (X = mean A − mean B) or ``'A vs B: one seed ..., no spread, not compared (mean A vs mean B)'``.
    """
    a = [float(v) for v in values_a if v == v]
    b = [float(v) for v in values_b if v == v]
    if not a or not b:
        raise ValueError(f'compare: no values for {name_a if not a else name_b!r}')
    mean_a, mean_b = statistics.mean(a), statistics.mean(b)
    if len(a) < 2 or len(b) < 2:
        few = 'each' if len(a) < 2 and len(b) < 2 else f'of {name_a if len(a) < 2 else name_b}'
        return (f'{name_a} vs {name_b}: one seed {few}, no spread, not compared '
                f'({mean_a:{fmt}} vs {mean_b:{fmt}})')
    std_a, std_b = statistics.stdev(a), statistics.stdev(b)
    gap = mean_a - mean_b
    if abs(gap) > std_a and abs(gap) > std_b:
        if (gap > 0) == higher_is_better:
            return f'{name_a} beats {name_b} by {abs(gap):{fmt}} (gap > both stds: {std_a:{fmt}}, {std_b:{fmt}})'
        return f'{name_b} beats {name_a} by {abs(gap):{fmt}} (gap > both stds: {std_b:{fmt}}, {std_a:{fmt}})'
    return f'{name_a} and {name_b} are within noise (gap {gap:+{fmt}}, stds {std_a:{fmt}}, {std_b:{fmt}})'


def seeds_cell(seeds: Sequence[int]) -> str:
    """A row's seed count and seeds, runs of three or more as a range: ``[0, 1, 2, 4]`` -> ``'4 (0–2, 4)'``."""
    seeds = sorted(seeds)
    parts: List[str] = []
    start = 0
    for i in range(1, len(seeds) + 1):
        if i == len(seeds) or seeds[i] != seeds[i - 1] + 1:
            run = seeds[start:i]
            parts += [f'{run[0]}–{run[-1]}'] if len(run) >= 3 else [str(s) for s in run]
            start = i
    return f'{len(seeds)} ({", ".join(parts)})'


#: what :func:`machines_line` says of runs recorded before runs.json kept the machine's facts
UNRECORDED_MACHINE = 'the development machine unless docs/benchmarks.md says otherwise'


def machines_line(runs: Iterable[dict]) -> str:
    """The footer naming the machines ``runs`` came from, from their ``machine`` facts.

    Runs are grouped by CPU, torch's CPU capability, thread count and kernel variables, and counted; the
    torch versions of a group are listed. Runs without ``machine`` predate those facts and are counted apart.
    """
    groups: Dict[Tuple, List[dict]] = {}
    unrecorded = 0
    for run in runs:
        m = run.get('machine')
        if not m:
            unrecorded += 1
            continue
        env = m.get('env') or {}
        key = (m.get('cpu', '?'), m.get('cpu_capability', '?'), m.get('threads', '?'), tuple(sorted(env.items())))
        groups.setdefault(key, []).append(m)
    parts = []
    for (cpu, cap, threads, env), ms in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        torch = '/'.join(sorted({str(m.get('torch', '?')) for m in ms}))
        extra = ''.join(f', {k}={v}' for k, v in env)
        plural = '' if threads == 1 else 's'
        parts.append(f'{len(ms)} on {cpu} (torch {torch}, CPU capability {cap}, {threads} thread{plural}{extra})')
    if unrecorded:
        parts.append(f'{unrecorded} recorded before machine facts were kept ({UNRECORDED_MACHINE})')
    return 'Runs: ' + ('; '.join(parts) or 'none') + '.'


def _footer(comparisons: Sequence[str], runs: Iterable[dict]) -> List[str]:
    """The lines every table ends with: its comparisons (when it shows both rows of one) and its machines."""
    lines = ['']
    if comparisons:
        lines += ['Comparisons (a win needs 2 seeds or more per row and a gap larger than both rows\' sample stds):',
                  *(f'- {c}' for c in comparisons), '']
    return lines + [machines_line(runs)]


def merge_runs(parts: Sequence):
    """Several runs.json contents of one study as one: lists are joined, dicts united.

    Raises:
        ValueError: the parts mix lists and dicts, or two parts hold different results for one run.
    """
    if all(isinstance(p, list) for p in parts):
        merged: list = []
        seen = {}
        for p in parts:
            for r in p:
                key = (r.get('loss'), r.get('seed'))
                if key in seen and seen[key] != r:
                    raise ValueError(f'merge_runs: two different results for {key}')
                if key not in seen:
                    seen[key] = r
                    merged.append(r)
        return merged
    if all(isinstance(p, dict) for p in parts):
        out: dict = {}
        for p in parts:
            for k, v in p.items():
                if k in out and out[k] != v:
                    raise ValueError(f'merge_runs: two different results for {k!r}')
                out[k] = v
        return out
    raise ValueError('merge_runs: the parts mix list- and dict-form runs.json')


def _row_runs(runs: Dict[str, dict], row: str) -> Dict[int, dict]:
    """The runs of one row of a dict-form runs.json, by seed."""
    return dict(sorted((int(k.rsplit('/', 1)[1]), v) for k, v in runs.items() if k.rsplit('/', 1)[0] == row))


def _runs_by_row(runs: Dict[str, dict], rows: Sequence[str], study: str) -> Dict[str, Dict[int, dict]]:
    """The runs of each of ``rows``, by seed; a row without runs is a KeyError naming ``study`` and the rows."""
    by_row = {row: _row_runs(runs, row) for row in rows}
    missing = [row for row in rows if not by_row[row]]
    if missing:
        raise KeyError(f'{study}: runs.json has no runs for row(s) {missing}')
    return by_row


#: loss-study pairs that the READMEs compare (first, second), each on mAP50 and mAP75
LOSS_STUDY_PAIRS = (('KLD', 'smooth-L1'), ('KFIoU', 'smooth-L1'), ('KLD', 'GWD'), ('KLD', 'KFIoU'),
                    # the other families (loss_study.py --study detectors): each variant against its baseline
                    ('R3Det-tiny + KLD', 'R3Det-tiny + smooth-L1'), ('S2ANet + KFIoU', 'S2ANet + smooth-L1'),
                    ('Oriented R-CNN + KFIoU', 'Oriented R-CNN + smooth-L1'),
                    ('RTMDet-R-tiny + KLD', 'RTMDet-R-tiny + IoU'), ('RTMDet-R-tiny + KFIoU', 'RTMDet-R-tiny + IoU'))


def loss_study_table(runs: List[dict], rows: Optional[Sequence[str]] = None) -> str:
    """The loss-study table (mean ± std over seeds) of ``runs`` (the list in runs.json), then the comparisons
    of ``LOSS_STUDY_PAIRS`` whose two rows are shown and the machines.

    Args:
        runs: one dict per (loss, seed) run with the keys the study writes.
        rows: losses to show, in this order; default every loss that has runs, ``LOSS_STUDY_ROWS`` first.
    """
    known = [r['loss'] for r in runs]
    if rows is None:
        rows = [r for r in LOSS_STUDY_ROWS if r in known]
        rows += [r for r in dict.fromkeys(known) if r not in LOSS_STUDY_ROWS]
    unknown = [r for r in rows if r not in known]
    if unknown:
        raise KeyError(f'loss study: no runs for row(s) {unknown}; runs.json has {sorted(set(known))}')
    lines = ['| loss | mAP50 | mAP75 | angle error on ships (°) | ships found | matched IoU ship | tank | plane '
             '| train + test (min) | seeds |', '|---|---|---|---|---|---|---|---|---|---|']
    for loss in rows:
        rs = [r for r in runs if r['loss'] == loss]

        def ms(key: str, fmt: str = '.3f') -> str:
            return mean_std([r[key] for r in rs], fmt)
        lines.append(f'| {loss} | {ms("mAP50")} | {ms("mAP75")} | {ms("angle_err_deg", fmt=".2f")} | '
                     f'{ms("ships_found")} | {ms("iou_ship")} | {ms("iou_tank")} | {ms("iou_plane")} | '
                     f'{ms("minutes", fmt=".1f")} | {seeds_cell([r["seed"] for r in rs])} |')
    comparisons = [f'{key}: ' + compare(a, [r[key] for r in runs if r['loss'] == a],
                                        b, [r[key] for r in runs if r['loss'] == b])
                   for a, b in LOSS_STUDY_PAIRS if a in rows and b in rows for key in ('mAP50', 'mAP75')]
    lines += _footer(comparisons, [r for r in runs if r['loss'] in rows])
    return '\n'.join(lines) + '\n'


def loss_study_means(runs: List[dict], loss: str) -> Dict[str, float]:
    """Seed means of one loss, rounded as in the table (for the metafiles)."""
    rs = [r for r in runs if r['loss'] == loss]
    if not rs:
        raise KeyError(f'loss study: no runs for {loss!r}')
    return {'mAP50': round(statistics.mean(r['mAP50'] for r in rs), 3),
            'mAP75': round(statistics.mean(r['mAP75'] for r in rs), 3)}


def _sfda_cell(values: Sequence[float]) -> str:
    """mean ± std over seeds; NaN (no volume with a defined value) is left out and counted as empty."""
    vals = [v for v in values if v == v]
    empty = len(values) - len(vals)
    if not vals:
        return 'empty'
    if empty:
        return _sfda_cell(vals) + f' ({empty} empty)'
    if len(vals) == 1:
        return f'{vals[0]:.3f}'
    return mean_std(vals)


def _sfda_missed_cell(runs: Sequence[dict], cls: str) -> Optional[str]:
    """``'missed / volumes'`` summed over seeds; None when a run predates the counts."""
    key = f'missed_{cls}'
    if not runs or any(key not in r or 'volumes' not in r for r in runs):
        return None
    return f'{sum(r[key] for r in runs)} / {sum(r["volumes"] for r in runs)}'


def _sfda_seeds(runs: Dict[str, dict]) -> List[int]:
    return sorted({int(k.rsplit('/', 1)[1]) for k in runs})


#: sfda-study pairs that the README compares (first, second), on the mean Dice: SFDA against the baselines
#: and the two ends, and the two KL directions (the default, KL(pred‖prior), is the row 'SFDA')
SFDA_STUDY_PAIRS = (('SFDA', 'AdaEnt'), ('SFDA', 'source only'), ('SFDA', 'oracle'), ('SFDA', 'SFDA, KL(prior‖pred)'))


def sfda_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The SFDA-study table plus its gap line, the comparisons of ``SFDA_STUDY_PAIRS`` whose rows are shown
    and the machines, from ``runs`` (the dict in runs.json).

    Means over volumes as ``MedicalVolumeMetric`` reports them: a missed structure counts Dice 0 and,
    in ASSD and HD95, the volume's diagonal. The ``missed <class>`` columns count the volumes whose
    prediction lacked the class, over all seeds; ``–`` marks runs measured before those counts
    existed (their distance means left missed structures out), which a note under the table names.

    Args:
        runs: ``{'<row>/<seed>': {metric: value}}``.
        rows: rows to show, in this order; default ``SFDA_STUDY_ROWS``.
    """
    rows = list(rows or SFDA_STUDY_ROWS)
    seeds = _sfda_seeds(runs)
    header = ['method', 'mean Dice', 'Dice organ', 'Dice lesion', 'mean ASSD (mm)', 'mean HD95 (mm)',
              *(f'missed {c}' for c in SFDA_CLASSES), 'seeds']
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    uncounted = False
    for row in rows:
        by_seed = _row_runs(runs, row)
        vals = list(by_seed.values())
        cells = [_sfda_cell([v[k] for v in vals if k in v]) if any(k in v for v in vals) else '–'
                 for k in SFDA_KEYS]
        missed = [_sfda_missed_cell(vals, c) for c in SFDA_CLASSES]
        uncounted |= None in missed
        table.append(f'| {row} | ' + ' | '.join(cells + [m or '–' for m in missed] + [seeds_cell(by_seed)]) + ' |')
    # the gap line needs every seed of the two ends and of each adaptation row shown
    needed = {'source only', 'oracle', *rows}
    missing = [f'{row}/{s}' for row in needed for s in seeds if f'{row}/{s}' not in runs]
    if missing:
        raise KeyError(f'sfda study: runs.json has no {sorted(missing)}')
    src = statistics.mean(runs[f'source only/{s}']['mdice'] for s in seeds)
    ora = statistics.mean(runs[f'oracle/{s}']['mdice'] for s in seeds)
    closed = {}
    for row in rows:
        if row in ('source only', 'oracle'):
            continue
        closed[row] = (statistics.mean(runs[f'{row}/{s}']['mdice'] for s in seeds) - src) / (ora - src)
    table.append('')
    if uncounted:
        table.append('Rows with – under "missed" were measured before missed structures were counted: their '
                     'ASSD and HD95 means leave a missed structure out instead of counting the volume diagonal '
                     '(re-run `benchmarks/sfda_study.py`).')
        table.append('')
    table.append(f'Seeds {seeds}. Fraction of the mean-Dice gap (source only → oracle) closed: '
                 + ', '.join(f'{k} {v:.0%}' for k, v in closed.items()) + '.')
    comparisons = ['mean Dice: ' + compare(a, [v['mdice'] for v in _row_runs(runs, a).values()],
                                           b, [v['mdice'] for v in _row_runs(runs, b).values()])
                   for a, b in SFDA_STUDY_PAIRS if a in rows and b in rows]
    table += _footer(comparisons, [v for row in rows for v in _row_runs(runs, row).values()])
    return '\n'.join(table) + '\n'


def sfda_study_means(runs: Dict[str, dict], row: str) -> Dict[str, float]:
    """Seed means of one row over the seeds with a defined value, rounded as in the table."""
    vals = [v for k, v in runs.items() if k.rsplit('/', 1)[0] == row]
    if not vals:
        raise KeyError(f'sfda study: no runs for {row!r}')
    out = {}
    for key in SFDA_KEYS:
        defined = [v[key] for v in vals if key in v and v[key] == v[key]]
        if defined:
            out[key] = round(statistics.mean(defined), 3)
    return out


#: crossmodal-study rows (segmentation arms) in table order (runs.json keys are ``'<row>/<seed>'``)
CROSSMODAL_STUDY_ROWS = ('MR only', 'MR + standard aug.', 'MR + raw CT', 'MR + histogram-matched CT',
                         'MR + pseudo-MR, CycleGAN', 'MR + pseudo-MR, tumour-aware')
#: crossmodal-study columns: (runs.json key, header); the KL only for arms that add CT-derived images
CROSSMODAL_KEYS = (('intensity_kl', 'intensity KL to real MR (nats)'), ('dice_tumour', 'Dice'),
                   ('hd95_tumour', 'HD95 (mm)'), ('volume_ratio_tumour', 'volume ratio'))


#: crossmodal-study pairs that the README compares (first, second), on the tumour Dice
CROSSMODAL_STUDY_PAIRS = (('MR + pseudo-MR, tumour-aware', 'MR + pseudo-MR, CycleGAN'),
                          ('MR + pseudo-MR, tumour-aware', 'MR only'), ('MR + histogram-matched CT', 'MR only'))


def _label(row: str) -> str:
    """A row name for a comparison sentence, quoted where its own comma would misread."""
    return f'"{row}"' if ',' in row else row


def _seed_means(runs: Dict[str, dict], row: str, key: str) -> float:
    vals = [v[key] for k, v in runs.items() if k.rsplit('/', 1)[0] == row and key in v]
    if not vals:
        raise KeyError(f'crossmodal study: no {key!r} for row {row!r}')
    return statistics.mean(vals)


def crossmodal_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The CT->MR augmentation study: per arm, the intensity KL of its CT-derived images to real MR and the
    tumour Dice, HD95 (mm; a missed tumour counts the volume diagonal) and volume ratio on the MR test set,
    mean ± std over the seeds the arm has, the missed tumours over those seeds, then the issue's acceptance
    checks, the comparisons of ``CROSSMODAL_STUDY_PAIRS`` and the machines. A row needs one seed or more;
    rows may have different seeds (several results folders merged, :func:`merge_runs`).

    Args:
        runs: ``{'<row>/<seed>': {metric: value}}`` (``MedicalVolumeMetric`` keys plus ``intensity_kl``).
        rows: rows to show, in this order; default ``CROSSMODAL_STUDY_ROWS``.
    """
    rows = list(rows or CROSSMODAL_STUDY_ROWS)
    by_row = _runs_by_row(runs, rows, 'crossmodal study')
    header = ['training set', *(h for _, h in CROSSMODAL_KEYS), 'missed tumours', 'seeds']
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    for row in rows:
        vals = list(by_row[row].values())
        cells = [_sfda_cell([v[k] for v in vals]) if all(k in v for v in vals) else '–' for k, _ in CROSSMODAL_KEYS]
        table.append(f'| {row} | ' + ' | '.join(cells + [_sfda_missed_cell(vals, 'tumour') or '–',
                                                       seeds_cell(by_row[row])]) + ' |')
    table.append('')
    seed_sets = {tuple(r) for r in by_row.values()}
    if len(seed_sets) == 1:
        table.append(f'Seeds {list(next(iter(seed_sets)))} (each seed trains its own translators and segmenters).')
    else:
        table.append('Seeds per row in the last column; a row\'s cells are over its own seeds (each seed trains its '
                     'own translators and segmenters).')
    full = set(CROSSMODAL_STUDY_ROWS) <= {k.rsplit('/', 1)[0] for k in runs}
    if full:
        ta, plain = 'MR + pseudo-MR, tumour-aware', 'MR + pseudo-MR, CycleGAN'
        kl_ratio = _seed_means(runs, 'MR + raw CT', 'intensity_kl') / _seed_means(runs, ta, 'intensity_kl')
        gain = _seed_means(runs, ta, 'dice_tumour') - _seed_means(runs, 'MR only', 'dice_tumour')
        over_plain = _seed_means(runs, ta, 'dice_tumour') - _seed_means(runs, plain, 'dice_tumour')
        over = 'seeds' if len(seed_sets) == 1 else "each row's seeds"
        table.append(f'Acceptance (means over {over}): raw-CT KL / tumour-aware pseudo-MR KL = {kl_ratio:.1f} '
                     f'(goal ≥ 5); tumour-aware pseudo-MR Dice − MR-only Dice = {gain:+.3f} (goal ≥ +0.05); '
                     f'tumour-aware − plain CycleGAN Dice = {over_plain:+.3f} (goal > 0).')
    comparisons = ['Dice: ' + compare(_label(a), [v['dice_tumour'] for v in by_row[a].values()],
                                      _label(b), [v['dice_tumour'] for v in by_row[b].values()])
                   for a, b in CROSSMODAL_STUDY_PAIRS if a in rows and b in rows]
    table += _footer(comparisons, [v for r in by_row.values() for v in r.values()])
    return '\n'.join(table) + '\n'


#: metafile metric names of the crossmodal study -> runs.json keys
CROSSMODAL_METRICS = {'Dice tumour': 'dice_tumour', 'HD95 tumour': 'hd95_tumour', 'volume ratio': 'volume_ratio_tumour',
                      'intensity KL': 'intensity_kl'}


def crossmodal_study_means(runs: Dict[str, dict], row: str) -> Dict[str, float]:
    """Seed means of one arm, rounded as in the table, keyed by the metafiles' metric names."""
    vals = [v for k, v in runs.items() if k.rsplit('/', 1)[0] == row]
    if not vals:
        raise KeyError(f'crossmodal study: no runs for {row!r}')
    return {name: round(statistics.mean(v[key] for v in vals), 3) for name, key in CROSSMODAL_METRICS.items()
            if all(key in v for v in vals)}


#: gcd-study arms and datasets in table order (runs.json keys are ``'<dataset> | <arm>/<seed>'``)
GCD_STUDY_ARMS = ('SimGCD', 'LegoGCD', 'LegoGCD, official dual-view KL', 'LER only', 'dual-view KL only',
                  'dual-view KL only, official')
GCD_STUDY_DATASETS = ('MNIST-5k', 'digits')
#: gcd-study columns: runs.json key (GCDAccuracy, percent) -> header
GCD_KEYS = (('All', 'All'), ('Old', 'Old'), ('New', 'New'), ('v1/All', 'All (v1)'))


def _gcd_values(runs: Dict[str, dict], row: str, key: str) -> List[float]:
    vals = [v[key] for k, v in runs.items() if k.rsplit('/', 1)[0] == row and key in v]
    if not vals:
        raise KeyError(f'gcd study: no {key!r} for row {row!r}')
    return vals


#: gcd-study pairs that the README compares per dataset (first, second), on All and New
GCD_STUDY_PAIRS = (('LegoGCD', 'SimGCD'), ('dual-view KL only', 'SimGCD'))


def gcd_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The GCD study: per dataset and arm, GCDAccuracy's All / Old / New (v2, percent) and v1's All, mean ± std
    over the seeds the row has, then the issue's acceptance check per dataset (LegoGCD's Old >= SimGCD's, and
    LegoGCD's New not below SimGCD's by more than a std), the comparisons of ``GCD_STUDY_PAIRS`` per dataset
    and the machines.

    Args:
        runs: ``{'<dataset> | <arm>/<seed>': {metric: value}}``.
        rows: ``'<dataset> | <arm>'`` rows to show, in this order; default every dataset x arm.
    """
    rows = list(rows or [f'{d} | {a}' for d in GCD_STUDY_DATASETS for a in GCD_STUDY_ARMS])
    by_row = _runs_by_row(runs, rows, 'gcd study')
    header = ['dataset', 'method', *(h for _, h in GCD_KEYS), 'seeds']
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    for row in rows:
        dataset, arm = row.split(' | ', 1)
        cells = [mean_std(_gcd_values(runs, row, k), '.2f') for k, _ in GCD_KEYS]
        table.append(f'| {dataset} | {arm} | ' + ' | '.join(cells + [seeds_cell(by_row[row])]) + ' |')
    table.append('')
    seed_sets = {tuple(r) for r in by_row.values()}
    over = f'seeds {list(seed_sets.pop())}' if len(seed_sets) == 1 else 'each row\'s seeds (last column)'
    table.append(f'Accuracy in % on the unlabelled training images, last epoch, mean ± std over {over}.')
    comparisons = []
    for dataset in GCD_STUDY_DATASETS:
        sim, lego = f'{dataset} | SimGCD', f'{dataset} | LegoGCD'
        if sim in rows and lego in rows:
            old = statistics.mean(_gcd_values(runs, lego, 'Old')) - statistics.mean(_gcd_values(runs, sim, 'Old'))
            new = statistics.mean(_gcd_values(runs, lego, 'New')) - statistics.mean(_gcd_values(runs, sim, 'New'))
            news = [_gcd_values(runs, r, 'New') for r in (lego, sim)]
            stds = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in news]
            table.append(f'Acceptance, {dataset}: LegoGCD − SimGCD Old = {old:+.2f} (goal ≥ 0); New = {new:+.2f} '
                         f'(goal ≥ −std: LegoGCD\'s New std {stds[0]:.2f}, SimGCD\'s {stds[1]:.2f}).')
        for a, b in GCD_STUDY_PAIRS:
            ra, rb = f'{dataset} | {a}', f'{dataset} | {b}'
            if ra in rows and rb in rows:
                comparisons += [f'{dataset}, {key}: ' + compare(a, _gcd_values(runs, ra, key), b,
                                                                _gcd_values(runs, rb, key), '.2f')
                                for key in ('All', 'New')]
    table += _footer(comparisons, [v for r in by_row.values() for v in r.values()])
    return '\n'.join(table) + '\n'


#: metafile metric names of the gcd study -> runs.json keys
GCD_METRICS = {'All': 'All', 'Old': 'Old', 'New': 'New'}


def gcd_study_means(runs: Dict[str, dict], row: str) -> Dict[str, float]:
    """Seed means of one ``'<dataset> | <arm>'`` row, rounded as in the table, keyed by the metafiles' names."""
    return {name: round(statistics.mean(_gcd_values(runs, row, key)), 2) for name, key in GCD_METRICS.items()}


#: kd-study rows, in table order (benchmarks/kd_study.py's ARMS)
KD_STUDY_ROWS = ('teacher', 'student alone', 'KD', 'DKD', 'GKL', 'WKD-L', 'BD-KD (frozen teacher)')
#: the distillation losses of the kd study: each is compared with the student alone and with KD
KD_STUDY_LOSSES = KD_STUDY_ROWS[2:]


def _kd_values(by_row: Dict[str, Dict[int, dict]], row: str) -> List[float]:
    return [r['top1'] for r in by_row[row].values()]


def kd_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The offline distillation study (``benchmarks/kd_study.py``): per row, the test top-1 (%) at the last epoch,
    mean ± std over its seeds, the gain over the student alone (difference of the means), the share of the
    teacher-student gap that gain closes and the mean training time of a run; then the comparisons of each loss
    with the student alone and with KD (:func:`compare`), and the machines.

    Args:
        runs: ``{'<row>/<seed>': {'top1': %, 'seconds': s, 'seed': ..., 'machine': ...}}``.
        rows: rows to show, in this order; default ``KD_STUDY_ROWS``.
    """
    rows = list(rows or KD_STUDY_ROWS)
    by_row = _runs_by_row(runs, rows, 'kd study')
    mean = {row: statistics.mean(_kd_values(by_row, row)) for row in rows}
    alone, teacher = mean.get('student alone'), mean.get('teacher')
    table = ['| method | top-1 (%) | gain over student alone | share of the teacher-student gap | train (s) | seeds |',
             '|---|---|---|---|---|---|']
    for row in rows:
        gain = share = '–'
        if alone is not None and row not in ('teacher', 'student alone'):
            gain = f'{mean[row] - alone:+.2f}'
            if teacher is not None and teacher > alone:
                share = f'{100 * (mean[row] - alone) / (teacher - alone):.0f} %'
        seconds = statistics.mean(r['seconds'] for r in by_row[row].values())
        table.append(f'| {row} | {mean_std(_kd_values(by_row, row), ".2f")} | {gain} | {share} | {seconds:.0f} | '
                     f'{seeds_cell(by_row[row])} |')
    table.append('')
    table.append('Top-1 on the 1000 held-out test images of MNIST-5k at the last epoch (24), mean ± std over the '
                 "seeds; each seed's student distils from the teacher trained with the same seed. train (s): one "
                 'run of tools/train.py on one CPU thread, start-up and test passes included.')
    comparisons = []
    for loss in KD_STUDY_LOSSES:
        for base in ('student alone', 'KD'):
            if loss in rows and base in rows and loss != base:
                comparisons.append(compare(loss, _kd_values(by_row, loss), base, _kd_values(by_row, base), '.2f'))
    table += _footer(comparisons, [v for r in by_row.values() for v in r.values()])
    return '\n'.join(table) + '\n'


#: metafile metric names of the kd study -> runs.json keys
KD_METRICS = {'Top 1 Accuracy': 'top1'}


def kd_study_means(runs: Dict[str, dict], row: str) -> Dict[str, float]:
    """Seed means of one kd-study row, rounded as in the table, keyed by the metafiles' names."""
    values = list(_row_runs(runs, row).values())
    if not values:
        raise KeyError(f'kd study: runs.json has no runs for row {row!r}')
    return {name: round(statistics.mean(v[key] for v in values), 2) for name, key in KD_METRICS.items()}


#: kernel paths of the spread study, in table order (benchmarks/demo_spread.py's PATHS)
SPREAD_PATHS = ('native', 'aten-avx2', 'aten-default', 'onednn-avx2')


def spread_table(runs: List[dict], rows: Optional[Sequence[str]] = None) -> str:
    """The spread study of one config (``benchmarks/demo_spread.py``): a row per run (kernel path, seed,
    threads), then the range, spread (max − min) and mean ± std of mAP50 and mAP75 over all runs shown.

    Args:
        runs (List[dict]): the list in runs.json (``seed``, ``path``, ``mAP50``, ``mAP75``, ``minutes``,
            ``machine``).
        rows (Sequence[str], optional): kernel paths to show (None: all). Defaults to None.

    Returns:
        str: the markdown table and its summary lines.
    """
    shown = [r for r in runs if rows is None or r['path'] in rows]
    if not shown:
        raise KeyError(f'no runs for kernel paths {rows}')
    order = {p: i for i, p in enumerate(SPREAD_PATHS)}
    lines = ['| kernel path | seed | threads | mAP50 | mAP75 | minutes |', '|---|---|---|---|---|---|']
    for r in sorted(shown, key=lambda r: (order.get(r['path'], len(order)), r['seed'])):
        threads = (r.get('machine') or {}).get('threads', '?')
        lines.append(f"| {r['path']} | {r['seed']} | {threads} | {r['mAP50']:.3f} | {r['mAP75']:.3f} | "
                     f"{r['minutes']:.1f} |")
    lines.append('')
    seeds = sorted({r['seed'] for r in shown})
    paths = sorted({r['path'] for r in shown}, key=lambda p: order.get(p, len(order)))
    lines.append(f'{len(shown)} runs: seeds {seeds_cell(seeds)}, kernel paths {", ".join(paths)}.')
    for key in ('mAP50', 'mAP75'):
        vals = [r[key] for r in shown]
        lines.append(f'{key}: range {min(vals):.3f}–{max(vals):.3f} (spread {max(vals) - min(vals):.3f}), '
                     f'mean {mean_std(vals)}.')
    return '\n'.join(lines + _footer([], shown)) + '\n'


def spread_means(runs: List[dict]) -> Dict[str, float]:
    """mAP50 and mAP75 means over every run of a spread study, rounded as in the table."""
    return {key: round(statistics.mean(r[key] for r in runs), 3) for key in ('mAP50', 'mAP75')}


#: study name (folder under benchmarks/results) -> its table function
STUDIES: Dict[str, Callable] = {'loss_study': loss_study_table, 'sfda_study': sfda_study_table,
                                'crossmodal_study': crossmodal_study_table, 'gcd_study': gcd_study_table,
                                'kd_study': kd_study_table, 'spread': spread_table}


def study_of(folder: str) -> str:
    """The study (key of ``STUDIES``) whose table a results folder takes: its name, or the study it extends
    (``crossmodal_study_seeds34`` -> ``crossmodal_study``); ``<config>_spread`` folders take the spread table."""
    if folder in STUDIES:
        return folder
    if folder.endswith('_spread'):
        return 'spread'
    for study in sorted(STUDIES, key=len, reverse=True):
        if folder.startswith(study + '_'):
            return study
    raise KeyError(f'unknown study {folder!r}; known: {sorted(STUDIES)}')


def load_runs(study: str, results_dir: str = RESULTS_DIR):
    """The parsed ``runs.json`` of ``study``; a missing file is named in the error. ``'a+b'`` merges the
    runs.json of the results folders ``a`` and ``b`` (:func:`merge_runs`)."""
    parts = []
    for folder in study.split('+'):
        path = osp.join(results_dir, folder, 'runs.json')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: no runs.json for study {folder!r}')
        with open(path, encoding='utf-8') as f:
            parts.append(json.load(f))
    return parts[0] if len(parts) == 1 else merge_runs(parts)


def present_rows(study: str, runs) -> Optional[List[str]]:
    """The rows of the study's table order that ``runs`` has, as the study scripts pass them for a results
    folder that holds some rows only; None (the table's default) for the loss and SFDA studies."""
    if study == 'crossmodal_study':
        order = list(CROSSMODAL_STUDY_ROWS)
    elif study == 'gcd_study':
        order = [f'{d} | {a}' for d in GCD_STUDY_DATASETS for a in GCD_STUDY_ARMS]
    elif study == 'kd_study':
        order = list(KD_STUDY_ROWS)
    else:
        return None
    present = {k.rsplit('/', 1)[0] for k in runs}
    return [row for row in order if row in present]


def render(text: str, path: str = '<text>', results_dir: str = RESULTS_DIR) -> str:
    """``text`` with every marked region regenerated from the studies' runs.json."""
    cache = {}

    def replace(m: re.Match) -> str:
        study = m.group('study')
        try:
            kinds = {study_of(folder) for folder in study.split('+')}
        except KeyError as e:
            raise KeyError(f'{path}: {e.args[0]} in a results marker') from None
        if len(kinds) != 1:
            raise KeyError(f'{path}: results marker {study!r} merges folders of different studies {sorted(kinds)}')
        if study not in cache:
            cache[study] = load_runs(study, results_dir)
        rows = m.group('rows').split('|') if m.group('rows') else None
        try:
            body = STUDIES[kinds.pop()](cache[study], rows)
        except KeyError as e:
            raise KeyError(f'{path}: {e.args[0]}') from None
        head = m.group(0)[:m.start('body') - m.start(0)]
        return head + body + '<!-- /results -->'

    return MARKER.sub(replace, text)


def study_table(folder: str, results_dir: str = RESULTS_DIR) -> str:
    """The ``table.md`` text of one results folder, as its study script writes it (the rows it has)."""
    study = study_of(folder)
    runs = load_runs(folder, results_dir)
    return STUDIES[study](runs, present_rows(study, runs))


def result_folders(results_dir: str = RESULTS_DIR) -> List[str]:
    """The results folders with a runs.json of a known study."""
    folders = []
    for path in sorted(glob.glob(osp.join(results_dir, '*', 'runs.json'))):
        folder = osp.basename(osp.dirname(path))
        try:
            study_of(folder)
        except KeyError:
            continue
        folders.append(folder)
    return folders


def _write_if_changed(path: str, text: str, check: bool) -> bool:
    """Whether ``path`` differs from ``text`` (a missing file does); writes ``text`` there unless ``check``."""
    old = open(path, encoding='utf-8').read() if osp.isfile(path) else None
    if text == old:
        return False
    if not check:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    return True


def update_tables(check: bool = False, results_dir: str = RESULTS_DIR) -> List[str]:
    """Rewrite the ``table.md`` of every results folder; return those that were (``check``: would be) changed."""
    paths = [(osp.join(results_dir, folder, 'table.md'), study_table(folder, results_dir))
             for folder in result_folders(results_dir)]
    return [path for path, text in paths if _write_if_changed(path, text, check)]


def default_files(root: str = ROOT) -> List[str]:
    """The files whose marked regions are generated: the config READMEs."""
    return sorted(glob.glob(osp.join(root, 'configs', '*', 'README.md')))


def update(files: Sequence[str], check: bool = False, results_dir: str = RESULTS_DIR) -> List[str]:
    """Regenerate the marked regions of ``files``; return the files that were (``check``: would be) changed."""
    stale = []
    for path in files:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if _write_if_changed(path, render(text, path, results_dir), check):
            stale.append(path)
    return stale


def publish(text: str, out_dir: str, update_readmes: bool) -> None:
    """A study's last step: write its table to ``out_dir/table.md``, print it, and with ``update_readmes``
    (the default results folder, which the READMEs quote) regenerate the README regions."""
    with open(osp.join(out_dir, 'table.md'), 'w', encoding='utf-8') as f:
        f.write(text)
    print(text)
    if update_readmes:
        for path in update(default_files()):
            print(f'updated {osp.relpath(path, ROOT)}')


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files', nargs='*', help='markdown files (default: configs/*/README.md, and then every '
                        'table.md of --results-dir too)')
    parser.add_argument('--check', action='store_true', help='change nothing; exit 1 if a region is stale')
    parser.add_argument('--results-dir', default=RESULTS_DIR, help='folder of <study>/runs.json')
    args = parser.parse_args(argv)
    files = args.files or default_files()
    stale = update(files, check=args.check, results_dir=args.results_dir)
    if not args.files:
        stale += update_tables(check=args.check, results_dir=args.results_dir)
    for path in stale:
        rel = osp.relpath(path, ROOT)
        print(f'{rel}: results table is stale; run python benchmarks/result_tables.py' if args.check
              else f'{rel}: results table updated')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
