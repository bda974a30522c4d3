"""Source-free adaptation on the toy domain-shift set: source-only, AdaEnt, Tent, SFDA and the oracle.

For each seed: train the UNet on the labelled source domain (its final validation on the
target test set is "source only"), fine-tune it on the labelled target domain (oracle), then
adapt the source checkpoint on unlabelled target images with each adaptation config. Every
run validates on the target test set; Dice, ASSD and HD95 (mm) per 3-D volume, and the number
of volumes whose prediction missed a structure, are read from the run's log (``MedicalVolumeMetric``).
Extra rows: SFDA with the other KL direction and SFDA with one KL per image instead of per batch.
The table (benchmarks/result_tables.py) goes to table.md and the results region of configs/sfda/README.md.

    python tools/data/toy_shift.py
    python benchmarks/sfda_study.py --seeds 0 1 2 --out benchmarks/results/sfda_study
    python benchmarks/sfda_study.py --table-only        # the table again, from runs.json
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py beside this file, also when loaded by path
from result_tables import SFDA_STUDY_ROWS, publish, sfda_study_table  # noqa: E402
from visiondiv.utils.reproducibility import machine_facts  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# {method}: source and oracle train 600 iterations, the adaptation methods 200
CFG = 'configs/sfda/{}_unet-gn_{}_toy-shift.py'
ADAPT = {
    'AdaEnt': ('adaent', []),
    'Tent': ('tent', []),
    'SFDA': ('sfda', []),
    'SFDA, KL(prior‖pred)': ('sfda', ['model.adapt_losses.1.direction=prior_pred']),
    'SFDA, per-image KL': ('sfda', ['model.adapt_losses.1.mode=image',
                                    'model.adapt_losses.1.prior=[0.870482,0.090333,0.039185]']),
}


def parse_metrics(log_text: str) -> dict:
    """The last validation of a run's log: ``MedicalVolumeMetric``'s means and counts, and ``volumes``."""
    lines = re.findall(r'(\d+) volumes: (.*)', log_text)
    if not lines:
        raise ValueError('no validation metrics (a "<N> volumes: ..." line) in the log')
    count, values = lines[-1]
    out = {k: int(v) if re.fullmatch(r'-?\d+', v) else float(v)    # the counts are the integers
           for k, v in re.findall(r'(\w+)=(-?[\d.]+(?:e[-+]?\d+)?|nan|inf)', values)}
    out['volumes'] = int(count)
    return out


def train(config: str, work_dir: str, seed: int, extra=(), parse=None) -> dict:
    """Run tools/train.py and return the last validation metrics it logged (``parse``: log text -> metrics,
    default :func:`parse_metrics`)."""
    os.makedirs(work_dir, exist_ok=True)
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
           '--cfg-options', f'randomness.seed={seed}', *extra]
    log_path = osp.join(work_dir, 'run.log')
    with open(log_path, 'w') as log:
        subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    with open(log_path, encoding='utf-8') as f:
        try:
            metrics = (parse or parse_metrics)(f.read())
        except ValueError as err:
            raise RuntimeError(f'{log_path}: {err}') from None
    # the CPU, torch's kernel path and the thread count: another machine can train other numbers
    return dict(metrics, seed=seed, machine=machine_facts())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', default='benchmarks/results/sfda_study')
    parser.add_argument('--work-dir', default='work_dirs/sfda_study')
    parser.add_argument('--table-only', action='store_true', help='rebuild the table from runs.json')
    parser.add_argument('--methods', nargs='+', default=list(SFDA_STUDY_ROWS), metavar='ROW',
                        help='rows to (re)run; the others keep their runs.json entries (adaptation rows '
                             'need the source checkpoints in --work-dir)')
    args = parser.parse_args()
    os.makedirs(osp.join(ROOT, args.out), exist_ok=True)
    runs_path = osp.join(ROOT, args.out, 'runs.json')
    runs = json.load(open(runs_path)) if osp.exists(runs_path) else {}
    for seed in [] if args.table_only else args.seeds:
        t0 = time.time()
        src_dir = osp.join(args.work_dir, f'source_seed{seed}')
        if 'source only' in args.methods:
            runs[f'source only/{seed}'] = train(CFG.format('source', '600it'), src_dir, seed)
        ckpt = osp.join(src_dir, 'iter_600.pth')
        if 'oracle' in args.methods:
            runs[f'oracle/{seed}'] = train(CFG.format('oracle', '600it'), osp.join(args.work_dir, f'oracle_seed{seed}'),
                                           seed, [f'load_from={ckpt}'])
        for name, (cfg, extra) in ADAPT.items():
            if name not in args.methods:
                continue
            slug = re.sub(r'\W+', '_', name).strip('_').lower()
            runs[f'{name}/{seed}'] = train(CFG.format(cfg, '200it'), osp.join(args.work_dir, f'{slug}_seed{seed}'),
                                           seed, [f'load_from={ckpt}', *extra])
        print(f'seed {seed}: {time.time() - t0:.0f} s', flush=True)
        json.dump(runs, open(runs_path, 'w'), indent=1)

    # the READMEs quote the default results only
    publish(sfda_study_table(runs), osp.join(ROOT, args.out), update_readmes=args.out == parser.get_default('out'))


if __name__ == '__main__':
    main()
