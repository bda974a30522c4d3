"""Result tables of the benchmark studies, written from ``benchmarks/results/<study>/runs.json``.

The formatting lives here only: ``loss_study.py`` and ``sfda_study.py`` write their
``table.md`` with these functions, and this script rewrites the regions of the config
READMEs that are marked with::

    <!-- results:loss_study -->                 the whole table
    <!-- results:loss_study rows=KFIoU|KLD -->  only these rows, in this order ('|'-separated)
    ...generated, do not edit...
    <!-- /results -->

Usage::

    python benchmarks/result_tables.py             # rewrite every marked region in configs/*/README.md
    python benchmarks/result_tables.py --check     # exit 1 and name the stale files (CI)
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
import sys
from typing import Callable, Dict, List, Optional, Sequence

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

MARKER = re.compile(r'<!-- results:(?P<study>[\w-]+)(?: rows=(?P<rows>[^>]*?))? -->\n(?P<body>.*?)<!-- /results -->',
                    re.DOTALL)


def mean_std(values: Sequence[float], fmt: str = '.3f') -> str:
    """``'mean ± std'`` (sample std); one value alone, with no spread to show."""
    if len(values) == 1:
        return f'{values[0]:{fmt}}'
    return f'{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}'


def loss_study_table(runs: List[dict], rows: Optional[Sequence[str]] = None) -> str:
    """The loss-study table (mean ± std over seeds) of ``runs`` (the list in runs.json).

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
             '| runs |', '|---|---|---|---|---|---|---|---|---|']
    for loss in rows:
        rs = [r for r in runs if r['loss'] == loss]

        def ms(key: str, fmt: str = '.3f') -> str:
            return mean_std([r[key] for r in rs], fmt)
        lines.append(f'| {loss} | {ms("mAP50")} | {ms("mAP75")} | {ms("angle_err_deg", fmt=".2f")} | '
                     f'{ms("ships_found")} | {ms("iou_ship")} | {ms("iou_tank")} | {ms("iou_plane")} | {len(rs)} |')
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


def sfda_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The SFDA-study table plus its gap line, from ``runs`` (the dict in runs.json).

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
              *(f'missed {c}' for c in SFDA_CLASSES)]
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    uncounted = False
    for row in rows:
        vals = [runs[f'{row}/{s}'] for s in seeds if f'{row}/{s}' in runs]
        cells = [_sfda_cell([v[k] for v in vals if k in v]) if any(k in v for v in vals) else '–'
                 for k in SFDA_KEYS]
        missed = [_sfda_missed_cell(vals, c) for c in SFDA_CLASSES]
        uncounted |= None in missed
        table.append(f'| {row} | ' + ' | '.join(cells + [m or '–' for m in missed]) + ' |')
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


def _seed_means(runs: Dict[str, dict], row: str, key: str) -> float:
    vals = [v[key] for k, v in runs.items() if k.rsplit('/', 1)[0] == row and key in v]
    if not vals:
        raise KeyError(f'crossmodal study: no {key!r} for row {row!r}')
    return statistics.mean(vals)


def crossmodal_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The CT->MR augmentation study: per arm, the intensity KL of its CT-derived images to real MR and the
    tumour Dice, HD95 (mm; a missed tumour counts the volume diagonal) and volume ratio on the MR test set,
    mean ± std over seeds, plus the missed tumours over all seeds and the issue's acceptance checks.

    Args:
        runs: ``{'<row>/<seed>': {metric: value}}`` (``MedicalVolumeMetric`` keys plus ``intensity_kl``).
        rows: rows to show, in this order; default ``CROSSMODAL_STUDY_ROWS``.
    """
    rows = list(rows or CROSSMODAL_STUDY_ROWS)
    seeds = _sfda_seeds(runs)
    missing = [f'{row}/{s}' for row in rows for s in seeds if f'{row}/{s}' not in runs]
    if missing:
        raise KeyError(f'crossmodal study: runs.json has no {sorted(missing)}')
    header = ['training set', *(h for _, h in CROSSMODAL_KEYS), 'missed tumours']
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    for row in rows:
        vals = [runs[f'{row}/{s}'] for s in seeds]
        cells = [_sfda_cell([v[k] for v in vals]) if all(k in v for v in vals) else '–' for k, _ in CROSSMODAL_KEYS]
        table.append(f'| {row} | ' + ' | '.join(cells + [_sfda_missed_cell(vals, 'tumour') or '–']) + ' |')
    table.append('')
    table.append(f'Seeds {seeds} (each seed trains its own translators and segmenters).')
    full = set(CROSSMODAL_STUDY_ROWS) <= {k.rsplit('/', 1)[0] for k in runs}
    if full:
        ta, plain = 'MR + pseudo-MR, tumour-aware', 'MR + pseudo-MR, CycleGAN'
        kl_ratio = _seed_means(runs, 'MR + raw CT', 'intensity_kl') / _seed_means(runs, ta, 'intensity_kl')
        gain = _seed_means(runs, ta, 'dice_tumour') - _seed_means(runs, 'MR only', 'dice_tumour')
        over_plain = _seed_means(runs, ta, 'dice_tumour') - _seed_means(runs, plain, 'dice_tumour')
        table.append(f'Acceptance (means over seeds): raw-CT KL / tumour-aware pseudo-MR KL = {kl_ratio:.1f} '
                     f'(goal ≥ 5); tumour-aware pseudo-MR Dice − MR-only Dice = {gain:+.3f} (goal ≥ +0.05); '
                     f'tumour-aware − plain CycleGAN Dice = {over_plain:+.3f} (goal > 0).')
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


def gcd_study_table(runs: Dict[str, dict], rows: Optional[Sequence[str]] = None) -> str:
    """The GCD study: per dataset and arm, GCDAccuracy's All / Old / New (v2, percent) and v1's All, mean ± std
    over seeds, then the issue's acceptance check per dataset (LegoGCD's Old >= SimGCD's, and LegoGCD's New
    not below SimGCD's by more than a std).

    Args:
        runs: ``{'<dataset> | <arm>/<seed>': {metric: value}}``.
        rows: ``'<dataset> | <arm>'`` rows to show, in this order; default every dataset x arm.
    """
    rows = list(rows or [f'{d} | {a}' for d in GCD_STUDY_DATASETS for a in GCD_STUDY_ARMS])
    seeds = _sfda_seeds(runs)
    missing = [f'{row}/{s}' for row in rows for s in seeds if f'{row}/{s}' not in runs]
    if missing:
        raise KeyError(f'gcd study: runs.json has no {sorted(missing)}')
    header = ['dataset', 'method', *(h for _, h in GCD_KEYS)]
    table = ['| ' + ' | '.join(header) + ' |', '|---' * len(header) + '|']
    for row in rows:
        dataset, arm = row.split(' | ', 1)
        cells = [mean_std(_gcd_values(runs, row, k), '.2f') for k, _ in GCD_KEYS]
        table.append(f'| {dataset} | {arm} | ' + ' | '.join(cells) + ' |')
    table.append('')
    table.append(f'Accuracy in % on the unlabelled training images, last epoch, mean ± std over seeds {seeds}.')
    for dataset in GCD_STUDY_DATASETS:
        sim, lego = f'{dataset} | SimGCD', f'{dataset} | LegoGCD'
        if sim not in rows or lego not in rows:
            continue
        old = statistics.mean(_gcd_values(runs, lego, 'Old')) - statistics.mean(_gcd_values(runs, sim, 'Old'))
        new = statistics.mean(_gcd_values(runs, lego, 'New')) - statistics.mean(_gcd_values(runs, sim, 'New'))
        stds = [statistics.stdev(_gcd_values(runs, r, 'New')) if len(seeds) > 1 else 0.0 for r in (lego, sim)]
        table.append(f'Acceptance, {dataset}: LegoGCD − SimGCD Old = {old:+.2f} (goal ≥ 0); New = {new:+.2f} '
                     f'(goal ≥ −std: LegoGCD\'s New std {stds[0]:.2f}, SimGCD\'s {stds[1]:.2f}).')
    return '\n'.join(table) + '\n'


#: metafile metric names of the gcd study -> runs.json keys
GCD_METRICS = {'All': 'All', 'Old': 'Old', 'New': 'New'}


def gcd_study_means(runs: Dict[str, dict], row: str) -> Dict[str, float]:
    """Seed means of one ``'<dataset> | <arm>'`` row, rounded as in the table, keyed by the metafiles' names."""
    return {name: round(statistics.mean(_gcd_values(runs, row, key)), 2) for name, key in GCD_METRICS.items()}


#: study name (folder under benchmarks/results) -> its table function
STUDIES: Dict[str, Callable] = {'loss_study': loss_study_table, 'sfda_study': sfda_study_table,
                                'crossmodal_study': crossmodal_study_table, 'gcd_study': gcd_study_table}


def load_runs(study: str, results_dir: str = RESULTS_DIR):
    """The parsed ``runs.json`` of ``study``; a missing file is named in the error."""
    path = osp.join(results_dir, study, 'runs.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no runs.json for study {study!r}')
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def render(text: str, path: str = '<text>', results_dir: str = RESULTS_DIR) -> str:
    """``text`` with every marked region regenerated from the studies' runs.json."""
    cache = {}

    def replace(m: re.Match) -> str:
        study = m.group('study')
        if study not in STUDIES:
            raise KeyError(f'{path}: unknown study {study!r} in a results marker; known: {sorted(STUDIES)}')
        if study not in cache:
            cache[study] = load_runs(study, results_dir)
        rows = m.group('rows').split('|') if m.group('rows') else None
        try:
            body = STUDIES[study](cache[study], rows)
        except KeyError as e:
            raise KeyError(f'{path}: {e.args[0]}') from None
        head = m.group(0)[:m.start('body') - m.start(0)]
        return head + body + '<!-- /results -->'

    return MARKER.sub(replace, text)


def default_files(root: str = ROOT) -> List[str]:
    """The files whose marked regions are generated: the config READMEs."""
    return sorted(glob.glob(osp.join(root, 'configs', '*', 'README.md')))


def update(files: Sequence[str], check: bool = False, results_dir: str = RESULTS_DIR) -> List[str]:
    """Regenerate the marked regions of ``files``; return the files that were (``check``: would be) changed."""
    stale = []
    for path in files:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = render(text, path, results_dir)
        if new != text:
            stale.append(path)
            if not check:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(new)
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
    parser.add_argument('files', nargs='*', help='markdown files (default: configs/*/README.md)')
    parser.add_argument('--check', action='store_true', help='change nothing; exit 1 if a region is stale')
    parser.add_argument('--results-dir', default=RESULTS_DIR, help='folder of <study>/runs.json')
    args = parser.parse_args(argv)
    files = args.files or default_files()
    stale = update(files, check=args.check, results_dir=args.results_dir)
    for path in stale:
        rel = osp.relpath(path, ROOT)
        print(f'{rel}: results table is stale; run python benchmarks/result_tables.py' if args.check
              else f'{rel}: results table updated')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
