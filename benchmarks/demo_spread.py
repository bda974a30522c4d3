"""How far the demo's mAP moves with the seed and the CPU kernel path: the range the README states.

For each seed and kernel path, train the demo config (the toy Rotated RetinaNet + KLD) with tools/train.py and read
the final validation's mAP50/mAP75 (the demo's test is the same evaluation). A kernel path is a set of
environment variables that make torch take another code path on the same machine, as another CPU would:

- ``native``: nothing forced;
- ``aten-default`` / ``aten-avx2``: ``ATEN_CPU_CAPABILITY=default|avx2`` (torch's unvectorised or AVX2 kernels);
- ``onednn-avx2``: ``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN's convolutions without AVX512).

    python benchmarks/demo_spread.py --seeds 0 1 2 3 4 --paths native --runs 0:aten-default 0:onednn-avx2 \
        [--threads 1 --jobs 2] [--out benchmarks/results/demo_spread]

``--jobs 2 --threads 1`` runs two trainings at once with one thread each (what fits 2 cores best); the
thread count is recorded with each run, as it is one more kernel path. Results go to ``OUT/runs.json``
(seed, path, mAP50, mAP75, minutes, machine facts) and ``OUT/table.md`` (``result_tables.spread_table``);
a folder named ``*_spread`` (the demo's: ``demo_spread``) is the one the READMEs quote.
"""
import argparse
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py beside this file
from result_tables import publish, spread_table  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_32e_toy-dota.py'
PATHS = {
    'native': {},
    'aten-default': {'ATEN_CPU_CAPABILITY': 'default'},
    'aten-avx2': {'ATEN_CPU_CAPABILITY': 'avx2'},
    'onednn-avx2': {'ONEDNN_MAX_CPU_ISA': 'AVX2'},
}
FACTS = 'import json; from visiondiv.utils.reproducibility import machine_facts; print(json.dumps(machine_facts()))'


def run_one(seed: int, path: str, threads: int, out: str, config: str) -> dict:
    """Train one (seed, kernel path) and return its record."""
    env = dict(os.environ, **PATHS[path])
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    facts = json.loads(subprocess.run([sys.executable, '-c', FACTS], cwd=ROOT, env=env, capture_output=True,
                                      text=True, check=True).stdout)
    work_dir = osp.join(out, f'{path}_seed{seed}' + (f'_{threads}threads' if threads else ''))
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    with open(osp.join(work_dir, 'run.log'), 'w') as log:
        subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
                        '--cfg-options', f'randomness.seed={seed}'], cwd=ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    text = open(osp.join(work_dir, 'run.log')).read()
    ap50, ap75 = re.findall(r'dota/AP50: ([0-9.]+)\s+dota/AP75: ([0-9.]+)', text)[-1]
    return dict(seed=seed, path=path, mAP50=float(ap50), mAP75=float(ap75),
                minutes=round((time.time() - start) / 60, 2), machine=facts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--paths', nargs='+', default=['native'], choices=list(PATHS))
    parser.add_argument('--runs', nargs='+', default=[], metavar='SEED:PATH',
                        help='further single runs, e.g. 0:aten-default 0:onednn-avx2')
    parser.add_argument('--threads', type=int, default=0, help='intra-op threads per run (0: torch\'s default)')
    parser.add_argument('--jobs', type=int, default=1, help='trainings at once')
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--out', default='benchmarks/results/demo_spread')
    args = parser.parse_args(argv)
    out = osp.join(ROOT, args.out)
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, 'tools/data/toy_dota.py', '--out', 'data/toy_dota'], cwd=ROOT, check=True)
    runs_path = osp.join(out, 'runs.json')
    runs = json.load(open(runs_path)) if osp.exists(runs_path) else []
    done = {(r['seed'], r['path'], r['machine']['threads']) for r in runs}
    wanted = [(s, p) for p in args.paths for s in args.seeds]
    for run in args.runs:
        seed, _, path = run.partition(':')
        if not seed.isdigit() or path not in PATHS:
            parser.error(f'--runs {run!r}: expected SEED:PATH with PATH one of {list(PATHS)}')
        wanted.append((int(seed), path))
    todo = [(s, p) for s, p in wanted
            if not any(d[:2] == (s, p) and (not args.threads or d[2] == args.threads) for d in done)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for record in pool.map(lambda sp: run_one(sp[0], sp[1], args.threads, out, args.config), todo):
            print(json.dumps({k: v for k, v in record.items() if k != 'machine'}), flush=True)
            runs.append(record)
            json.dump(runs, open(runs_path, 'w'), indent=1)
    # the READMEs quote the results folders named <config>_spread under benchmarks/results
    publish(spread_table(runs), out, update_readmes=osp.basename(out).endswith('_spread'))


if __name__ == '__main__':
    main()
