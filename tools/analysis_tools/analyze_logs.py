"""Plot training curves from mmengine's scalars.json logs, or summarise iteration times.

    python tools/analysis_tools/analyze_logs.py plot_curve work_dirs/x/*/vis_data/scalars.json \
        --keys loss loss_bbox dota/AP50 --out curves.png
    python tools/analysis_tools/analyze_logs.py cal_train_time work_dirs/x/*/vis_data/scalars.json
"""
import argparse
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List

import numpy as np


def load_scalars(path: str) -> Dict[str, List[tuple]]:
    """key -> [(step, value)], from mmengine's one-json-per-line scalars.json."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'log not found: {path}')
    series = defaultdict(list)
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{lineno}: not a JSON record ({err.msg})') from None
            step = rec.get('step', rec.get('iter', lineno))
            for k, v in rec.items():
                if isinstance(v, (int, float)) and k not in ('step', 'iter', 'epoch'):
                    series[k].append((step, v))
    return series


def plot_curve(logs: List[str], keys: List[str], out: str, title: str = None) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for log in logs:
        series = load_scalars(log)
        label = osp.basename(osp.dirname(osp.dirname(osp.dirname(osp.abspath(log))))) or log
        for ax, key in zip(axes[:, 0], keys):
            if key not in series:
                raise KeyError(f'{log}: no key {key!r}; available: {", ".join(sorted(series))}')
            steps, values = zip(*series[key])
            ax.plot(steps, values, marker='o' if len(steps) < 20 else None, label=label)
            ax.set_ylabel(key)
    axes[-1, 0].set_xlabel('step (iteration; epoch for validation metrics)')
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f'saved {out}')


def cal_train_time(logs: List[str]) -> None:
    for log in logs:
        times = np.array([v for _, v in load_scalars(log).get('time', [])])
        if not len(times):
            raise KeyError(f'{log}: no iteration times')
        print(f'{log}: mean {times.mean():.4f} s/iter, slowest {times.max():.4f}, fastest {times.min():.4f}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve')
    p.add_argument('logs', nargs='+')
    p.add_argument('--keys', nargs='+', default=['loss'])
    p.add_argument('--out', default='curves.png')
    p.add_argument('--title')
    c = sub.add_parser('cal_train_time')
    c.add_argument('logs', nargs='+')
    args = parser.parse_args()
    if args.task == 'plot_curve':
        plot_curve(args.logs, args.keys, args.out, args.title)
    else:
        cal_train_time(args.logs)


if __name__ == '__main__':
    main()
