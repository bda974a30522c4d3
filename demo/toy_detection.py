"""The main job: train a rotated RetinaNet with KLD on the embedded toy DOTA set, from scratch on CPU.

1. generates the toy dataset (tools/data/toy_dota.py; skipped when present),
2. trains with tools/train.py (progress and ETA in the log),
3. evaluates on toy val with tools/test.py and prints mAP50,
4. saves PNGs of the predictions (ground truth left, prediction right),
5. prints the range of mAP50 to expect: the recorded runs of this config over seeds and CPU kernel paths
   (benchmarks/results/demo_spread/runs.json, from benchmarks/demo_spread.py).

Run it as ``VISIONDIV_REPRODUCIBLE=1 python demo/toy_detection.py`` for a run that is bit-identical on any
x86-64 machine (slower; docs/user_guides/train.md#reproducible-runs).

    python demo/toy_detection.py [--work-dir work_dirs/toy_kld] [--config CONFIG] [--data DIR]
"""
import argparse
import glob
import json
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/kld/rotated-retinanet-rbox-le90_r18-tiny_fpn_kld-stable_32e_toy-dota.py'
SPREAD_RUNS = osp.join(ROOT, 'benchmarks', 'results', 'demo_spread', 'runs.json')


def expected_range(runs_path: str = SPREAD_RUNS):
    """(sentence, low, high): the mAP50 range of the recorded runs of the demo config (seeds x kernel paths),
    or None without a record."""
    if not osp.isfile(runs_path):
        return None
    runs = json.load(open(runs_path))
    vals = [r['mAP50'] for r in runs]
    return (f'mAP50 {min(vals):.3f}–{max(vals):.3f} over {len(runs)} recorded runs '
            f'({len({r["seed"] for r in runs})} seeds; kernel paths {", ".join(sorted({r["path"] for r in runs}))}; '
            f'{osp.relpath(runs_path, ROOT)})'), min(vals), max(vals)


def stream(cmd, sink):
    """Run ``cmd`` in the repo root, echoing its output and keeping a copy in ``sink``."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if 'Warning' not in line and 'warnings.warn' not in line:
            sys.stdout.write(line)
        sink.append(line)
    if proc.wait() != 0:
        raise SystemExit(f'command failed ({proc.returncode}): {" ".join(cmd)}')


def data_root_options(data: str) -> list:
    """``--cfg-options`` that point the config's train/val/test datasets at ``data``."""
    root = osp.join(osp.abspath(data), '')
    return ['--cfg-options'] + [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--work-dir', default='work_dirs/toy_kld')
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'toy_dota'),
                        help='where the toy set is generated and read (relative to the current directory)')
    args = parser.parse_args()
    start = time.time()
    py = sys.executable
    out = []
    data_options = data_root_options(args.data)
    stream([py, 'tools/data/toy_dota.py', '--out', osp.abspath(args.data)], out)
    t_train = time.time()
    stream([py, 'tools/train.py', args.config, '--work-dir', args.work_dir] + data_options, out)
    train_min = (time.time() - t_train) / 60
    ckpt = open(osp.join(ROOT, args.work_dir, 'last_checkpoint')).read().strip()
    test_out = []
    stream([py, 'tools/test.py', args.config, ckpt, '--work-dir', args.work_dir, '--show-dir', 'vis'] + data_options,
           test_out)
    metrics = re.findall(r'dota/AP50: ([0-9.]+)\s+dota/AP75: ([0-9.]+)', ''.join(test_out))
    if not metrics:
        raise SystemExit('no dota/AP50 in the test output')
    ap50, ap75 = (float(v) for v in metrics[-1])
    pngs = sorted(glob.glob(osp.join(ROOT, args.work_dir, '*', 'vis', '*.png')), key=osp.getmtime)
    if not pngs:
        raise SystemExit('no prediction PNG was written')
    sample = osp.join(ROOT, args.work_dir, 'predictions_example.png')
    shutil.copy(pngs[-1], sample)
    total = (time.time() - start) / 60
    print(f'\n[visiondiv demo] toy val mAP50 = {ap50:.4f}  mAP75 = {ap75:.4f}  '
          f'(train {train_min:.1f} min, total {total:.1f} min)')
    expected = expected_range() if args.config == CONFIG else None
    if expected:
        sentence, low, high = expected
        where = 'inside' if low <= round(ap50, 3) <= high else 'OUTSIDE'
        print(f'[visiondiv demo] expected {sentence}: this run is {where} it')
    print(f'[visiondiv demo] predictions drawn in {osp.dirname(pngs[-1])}; example: {sample}')
    print(f'[visiondiv demo] training curves: python tools/analysis_tools/analyze_logs.py plot_curve '
          f'{args.work_dir} --keys loss dota/AP50 --out {osp.join(args.work_dir, "curves.png")}')


if __name__ == '__main__':
    main()
