"""Plot training curves from mmengine's scalars.json logs, or summarise iteration times.

    python tools/analysis_tools/analyze_logs.py plot_curve work_dirs/toy_kld --keys loss loss_bbox dota/AP50 \
        --out curves.png
    python tools/analysis_tools/analyze_logs.py cal_train_time work_dirs/toy_kld

Each LOG is a work dir (its newest training run: ``<timestamp>/vis_data/scalars.json``, what ``make demo``
and ``tools/train.py`` write), one run's ``<timestamp>`` folder, or the json file itself
(``work_dirs/x/<timestamp>/vis_data/scalars.json`` or ``.../vis_data/<timestamp>.json``, as mmdet's tool takes).
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

SCALARS = osp.join('vis_data', 'scalars.json')
# what a validation record shares with the training records; renamed val/<key> so the two never mix
_SHARED_WITH_TRAIN = ('time', 'data_time', 'memory')


def find_scalars(path: str) -> str:
    """The scalars file that ``path`` names: the file itself, a run folder's or a work dir's newest one.

    A work dir holds one ``<timestamp>/`` folder per run of ``tools/train.py`` or ``tools/test.py``; only
    training (and validation) writes ``<timestamp>/vis_data/scalars.json``, so the newest folder that has
    one is taken (timestamps sort by name), not a test run made after it.

    Args:
        path (str): a json log file, a run's ``<timestamp>`` folder, or a work dir.

    Returns:
        str: the path of the json file to read.

    Raises:
        FileNotFoundError: ``path`` does not exist, or is a folder without any ``vis_data/scalars.json``.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'log not found: {path}')
    if osp.isfile(osp.join(path, SCALARS)):
        return osp.join(path, SCALARS)
    runs = sorted(glob.glob(osp.join(glob.escape(path), '*', SCALARS)))
    if not runs:
        raise FileNotFoundError(f'{path}: no {osp.join("<timestamp>", SCALARS)} in this folder (tools/train.py '
                                'writes one per run; tools/test.py runs write none): give a training work dir, '
                                'one of its <timestamp> folders, or the json file')
    return runs[-1]


def load_scalars(path: str) -> Dict[str, List[tuple]]:
    """key -> [(step, value)], from mmengine's one-json-per-line scalars.json.

    Training records carry ``iter``; in a file that has them, a record without it is a validation
    epoch, whose ``time`` / ``data_time`` / ``memory`` are a validation iteration's and are kept apart
    as ``val/time`` / ``val/data_time`` / ``val/memory``.

    Args:
        path (str): the json file (see :func:`find_scalars` for a folder).

    Returns:
        dict[str, list[tuple]]: every numeric key's ``(step, value)`` pairs in file order.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: a line is not JSON, naming the file and line.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'log not found: {path}')
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append((lineno, json.loads(line)))
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{lineno}: not a JSON record ({err.msg})') from None
    has_train = any('iter' in rec for _, rec in records)
    series = defaultdict(list)
    for lineno, rec in records:
        validation = has_train and 'iter' not in rec
        step = rec.get('step', rec.get('iter', lineno))
        for k, v in rec.items():
            if isinstance(v, (int, float)) and k not in ('step', 'iter', 'epoch'):
                series[f'val/{k}' if validation and k in _SHARED_WITH_TRAIN else k].append((step, v))
    return series


def plot_curve(logs: List[str], keys: List[str], out: str,
               title: Optional[str] = None) -> Dict[Tuple[str, str], Tuple[tuple, tuple]]:
    """Plot ``keys`` of every log against the step, one panel per key, into the image ``out``.

    Args:
        logs (list[str]): json files, run folders or work dirs (:func:`find_scalars`).
        keys (list[str]): the keys to plot (``loss``, ``dota/AP50``...).
        out (str): the image file to write.
        title (str, optional): the figure's title. Defaults to None.

    Returns:
        dict[tuple[str, str], tuple[tuple, tuple]]: ``(json file, key) -> (steps, values)`` as plotted.

    Raises:
        KeyError: a log has no such key, naming the keys it has.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    plotted = {}
    for log in logs:
        path = find_scalars(log)
        series = load_scalars(path)
        label = osp.basename(osp.dirname(osp.dirname(osp.dirname(osp.abspath(path))))) or path
        for ax, key in zip(axes[:, 0], keys):
            if key not in series:
                raise KeyError(f'{path}: no key {key!r}; available: {", ".join(sorted(series))}')
            steps, values = zip(*series[key])
            ax.plot(steps, values, marker='o' if len(steps) < 20 else None, label=label)
            ax.set_ylabel(key)
            plotted[path, key] = (steps, values)
    axes[-1, 0].set_xlabel('step (iteration; epoch for validation metrics)')
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f'saved {out}')
    return plotted


def cal_train_time(logs: List[str]) -> None:
    """Print the mean, slowest and fastest training iteration time of every log (validation excluded).

    Args:
        logs (list[str]): json files, run folders or work dirs (:func:`find_scalars`).

    Raises:
        KeyError: a log has no iteration times.
    """
    for log in logs:
        path = find_scalars(log)
        times = np.array([v for _, v in load_scalars(path).get('time', [])])
        if not len(times):
            raise KeyError(f'{path}: no iteration times')
        print(f'{path}: mean {times.mean():.4f} s/iter, slowest {times.max():.4f}, fastest {times.min():.4f}')


def main(argv: Optional[Sequence[str]] = None) -> Optional[dict]:
    """The command line: ``plot_curve LOG... [--keys ...] [--out PNG]`` or ``cal_train_time LOG...``.

    Args:
        argv (Sequence[str], optional): the arguments. Defaults to None (``sys.argv[1:]``).

    Returns:
        dict, optional: what :func:`plot_curve` plotted; None for ``cal_train_time``.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve')
    p.add_argument('logs', nargs='+', help='work dirs, <timestamp> run folders or json logs')
    p.add_argument('--keys', nargs='+', default=['loss'])
    p.add_argument('--out', default='curves.png')
    p.add_argument('--title')
    c = sub.add_parser('cal_train_time')
    c.add_argument('logs', nargs='+', help='work dirs, <timestamp> run folders or json logs')
    args = parser.parse_args(argv)
    if args.task == 'plot_curve':
        return plot_curve(args.logs, args.keys, args.out, args.title)
    cal_train_time(args.logs)
    return None


if __name__ == '__main__':
    main()
