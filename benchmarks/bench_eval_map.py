"""Speed of visiondiv's ``eval_rbbox_map`` against mmrotate 1.x's, on the same DOTA-like input.

mmrotate cannot be installed here (its setup fails on Python >= 3.10), so its
``mmrotate/evaluation/functional/mean_ap.py`` is read from the PyPI wheel
(downloaded once with ``pip download`` into ``--cache-dir``) and executed as a
stand-alone module; its imports (mmcv, mmdet, mmengine, terminaltables) are
all installed. Its spawn pool is replaced by an in-process one, so both run
serially (mmrotate with ``nproc=1``) in the same process on the same input.
The results are checked equal (mAP, per-class AP, recall and precision to
1e-6) before the times are printed.

    python benchmarks/bench_eval_map.py [--images 300] [--classes 15] [--repeats 3] [--metric both]
"""
import argparse
import importlib.util
import itertools
import os
import os.path as osp
import subprocess
import sys
import time
import types
import zipfile
from typing import Callable, List, Tuple

import numpy as np

from visiondiv.evaluation.functional import eval_rbbox_map

MMROTATE_WHEEL = 'mmrotate-1.0.0rc1-py3-none-any.whl'
MMROTATE_MEAN_AP = 'mmrotate/evaluation/functional/mean_ap.py'


def dota_like_input(num_images: int = 300, num_classes: int = 15, seed: int = 0,
                    img_size: float = 1024.0) -> Tuple[List[List[np.ndarray]], List[dict]]:
    """Deterministic detections and annotations shaped like DOTA 1024 px patches.

    Per image a few classes are present (class frequencies are skewed, as in
    DOTA), with 1-60 objects each; about 5 % of the objects are difficult
    (``bboxes_ignore``). Detections: most objects are found with a jittered
    box and a high score, some twice (duplicates), plus background false
    positives with low scores, per class, as a detector's output after NMS.
    """
    rng = np.random.default_rng(seed)
    class_freq = rng.dirichlet(np.full(num_classes, 0.6))
    det_results, annotations = [], []
    for _ in range(num_images):
        present = rng.choice(num_classes, size=rng.integers(1, 5), replace=False, p=class_freq)
        gts, labels = [], []
        for c in present:
            n = int(min(rng.geometric(1 / 12), 60))
            size = rng.uniform(10, 90) * np.exp(rng.normal(0, 0.3, (n, 2)))
            boxes = np.column_stack([rng.uniform(0, img_size, (n, 2)), size,
                                     rng.uniform(-np.pi / 2, np.pi / 2, n)])
            gts.append(boxes)
            labels.append(np.full(n, c))
        gts, labels = np.concatenate(gts), np.concatenate(labels)
        difficult = rng.random(len(gts)) < 0.05
        annotations.append(dict(bboxes=gts[~difficult], labels=labels[~difficult],
                                bboxes_ignore=gts[difficult], labels_ignore=labels[difficult]))
        per_class = []
        for c in range(num_classes):
            own = gts[labels == c]
            found = own[rng.random(len(own)) < 0.85]
            dup = found[rng.random(len(found)) < 0.15]
            hits = np.concatenate([found, dup])
            jitter = np.column_stack([rng.normal(0, 0.08, (len(hits), 2)) * hits[:, 2:4],
                                      np.exp(rng.normal(0, 0.1, (len(hits), 2))), rng.normal(0, 0.08, len(hits))])
            hits = np.column_stack([hits[:, :2] + jitter[:, :2], hits[:, 2:4] * jitter[:, 2:4],
                                    hits[:, 4] + jitter[:, 4]])
            n_bg = int(rng.poisson(2 + 0.5 * len(own)))
            bg = np.column_stack([rng.uniform(0, img_size, (n_bg, 2)), rng.uniform(8, 100, (n_bg, 2)),
                                  rng.uniform(-np.pi / 2, np.pi / 2, n_bg)])
            scores = np.concatenate([rng.beta(5, 2, len(hits)), rng.beta(1.2, 6, n_bg)])
            per_class.append(np.column_stack([np.concatenate([hits, bg]), scores]).astype(np.float32))
        det_results.append(per_class)
    return det_results, annotations


class _SerialPool:
    """Stands in for mmrotate's spawn pool: a module read from a wheel cannot be re-imported by a child."""

    def starmap(self, fn: Callable, iterable) -> list:
        return list(itertools.starmap(fn, iterable))

    def close(self) -> None:
        pass


def mmrotate_wheel_sources(cache_dir: str, *members: str) -> Tuple[str, List[str]]:
    """The path of mmrotate 1.0.0rc1's wheel in ``cache_dir`` (``pip download`` on first use) and the source text
    of each of its ``members`` (paths inside the wheel). The benchmarks read mmrotate's code from here only."""
    wheel = osp.join(cache_dir, MMROTATE_WHEEL)
    if not osp.exists(wheel):
        os.makedirs(cache_dir, exist_ok=True)
        subprocess.run([sys.executable, '-m', 'pip', 'download', 'mmrotate==1.0.0rc1', '--no-deps',
                        '-d', cache_dir], check=True)
    with zipfile.ZipFile(wheel) as zf:
        return wheel, [zf.read(m).decode() for m in members]


def load_mmrotate_mean_ap(cache_dir: str) -> types.ModuleType:
    """mmrotate 1.0.0rc1's ``mean_ap`` module, executed from its wheel (downloaded on first use)."""
    wheel, (source, ) = mmrotate_wheel_sources(cache_dir, MMROTATE_MEAN_AP)
    spec = importlib.util.spec_from_loader('mmrotate_reference_mean_ap', loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f'{wheel}/{MMROTATE_MEAN_AP}', 'exec'), module.__dict__)
    module.get_context = lambda method: types.SimpleNamespace(Pool=lambda nproc: _SerialPool())
    return module


def best_time(fn: Callable, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def check_equal(ours, ref, atol: float = 1e-6) -> None:
    """mAP and every class's counts, AP, recall and precision agree."""
    (map_ours, res_ours), (map_ref, res_ref) = ours, ref
    assert abs(map_ours - map_ref) <= atol, (map_ours, map_ref)
    assert len(res_ours) == len(res_ref)
    for c, (a, b) in enumerate(zip(res_ours, res_ref)):
        assert a['num_gts'] == b['num_gts'] and a['num_dets'] == b['num_dets'], c
        assert abs(float(a['ap']) - float(b['ap'])) <= atol, (c, a['ap'], b['ap'])
        np.testing.assert_allclose(a['recall'], b['recall'], atol=atol, rtol=0, err_msg=f'class {c}')
        np.testing.assert_allclose(a['precision'], b['precision'], atol=atol, rtol=0, err_msg=f'class {c}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=300)
    parser.add_argument('--classes', type=int, default=15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--repeats', type=int, default=3, help='best of this many runs')
    parser.add_argument('--metric', choices=['07', 'area', 'both'], default='both',
                        help='VOC07 11-point AP (the default of both functions), area AP, or both')
    parser.add_argument('--cache-dir', default=osp.join(osp.expanduser('~'), '.cache', 'visiondiv'),
                        help='where the mmrotate wheel is downloaded')
    args = parser.parse_args()
    mmrotate = load_mmrotate_mean_ap(args.cache_dir)
    det_results, annotations = dota_like_input(args.images, args.classes, args.seed)
    num_gts = sum(len(a['labels']) for a in annotations)
    num_ign = sum(len(a['labels_ignore']) for a in annotations)
    num_dets = sum(len(d) for img in det_results for d in img)
    print(f'{args.images} images x {args.classes} classes: {num_gts} gts (+{num_ign} ignored), '
          f'{num_dets} detections; numpy {np.__version__}; best of {args.repeats}')
    print(f'{"AP":>6} {"mmrotate s":>11} {"ours s":>8} {"ours/mmrotate":>14} {"mAP":>8}')
    for use_07 in {'07': [True], 'area': [False], 'both': [True, False]}[args.metric]:
        def ours():
            return eval_rbbox_map(det_results, annotations, use_07_metric=use_07, logger='silent', nproc=1)

        def ref():
            return mmrotate.eval_rbbox_map(det_results, annotations, use_07_metric=use_07, logger='silent',
                                           nproc=1)
        result = ours()
        check_equal(result, ref())
        t_ref, t_ours = best_time(ref, args.repeats), best_time(ours, args.repeats)
        print(f'{"VOC07" if use_07 else "area":>6} {t_ref:>11.3f} {t_ours:>8.3f} {t_ours / t_ref:>14.2f} '
              f'{result[0]:>8.4f}', flush=True)


if __name__ == '__main__':
    main()
