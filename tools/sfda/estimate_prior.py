"""Estimate a class-ratio prior for source-free adaptation (SFDA), and check a given one.

Three ways:
  from_labels  mean class ratio of the source label slices. ``--over present`` (default): only slices
               that contain a structure count for its ratio (SFDA's anatomical prior, for
               ``ClassRatioKLLoss(mode='image')``); ``--over all``: every slice counts (the
               expected ratio of a random batch, for ``mode='batch'``); background takes the rest.
               Every class of ``--num-classes`` must occur in the labels (one that never does would
               get a prior of 0);
  vector       a user-given vector, validated (finite, non-negative, sums to 1) and printed as given;
  bounds       per-class [low, high] ratio bounds for ``ClassRatioBoundLoss`` (a penalty outside
               them): given with --low/--high, or from source labels (the range of each class's
               ratio over the slices, widened by --margin); prints the loss config.

    python tools/sfda/estimate_prior.py from_labels data/toy_shift/source/train/labels --num-classes 3
    python tools/sfda/estimate_prior.py vector 0.9 0.08 0.02
    python tools/sfda/estimate_prior.py bounds --from-labels data/toy_shift/source/train/labels --num-classes 3
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import List

import numpy as np


def slice_ratios(label_dir: str, num_classes: int, slice_axis: int = 2, suffix: str = '.nii.gz') -> np.ndarray:
    """Class ratios (slices, C) of every slice of every label volume in ``label_dir``.

    Every class of ``[0, num_classes)`` must occur in the labels: a class that never does would get a
    ratio of 0, a prior that drives the adaptation to erase it.
    """
    from visiondiv.datasets import load_nifti
    from visiondiv.utils.validation import check_labels
    files = sorted(glob.glob(osp.join(label_dir, '*' + suffix)))
    if not files:
        raise FileNotFoundError(f"no '*{suffix}' label volumes in {label_dir}")
    out, found = [], set()
    for path in files:
        lab = check_labels(load_nifti(path)[0], path, num_classes).astype(np.int64)
        found.update(int(c) for c in np.unique(lab))
        moved = np.moveaxis(lab, slice_axis, 0).reshape(lab.shape[slice_axis], -1)
        out.extend(np.bincount(sl, minlength=num_classes) / sl.size for sl in moved)
    absent = sorted(set(range(num_classes)) - found)
    if absent:
        raise ValueError(f'{label_dir}: --num-classes is {num_classes} but the {len(files)} label volumes hold '
                         f'classes {sorted(found)}; class(es) {absent} never occur')
    return np.stack(out)


def prior_from_labels(label_dir: str, num_classes: int, slice_axis: int = 2, suffix: str = '.nii.gz',
                      over: str = 'present') -> List[float]:
    """Class-ratio prior from labelled (source) volumes; the labels never enter the adaptation itself.

    ``over='present'`` averages a structure's ratio over the slices that contain it, ``'all'`` over all slices.
    """
    from visiondiv.models.losses import validate_prior
    if over not in ('present', 'all'):
        raise ValueError(f"over must be 'present' or 'all', got {over!r}")
    ratios = slice_ratios(label_dir, num_classes, slice_axis, suffix)
    counted = ratios > 0 if over == 'present' else np.ones_like(ratios, bool)
    fg = (ratios * counted).sum(0) / np.maximum(counted.sum(0), 1)
    fg[0] = 0.0
    if fg.sum() >= 1:
        raise ValueError(f'foreground ratios sum to {fg.sum():.3f} >= 1; cannot form a prior')
    fg[0] = 1 - fg.sum()
    prior = [round(float(v), 6) for v in fg]
    validate_prior(prior, num_classes)
    return prior


def bounds_from_labels(label_dir: str, num_classes: int, slice_axis: int = 2, margin: float = 0.1,
                       suffix: str = '.nii.gz') -> List[List[float]]:
    """Per-class ``[low, high]`` ratio bounds: the range over all source slices, widened by ``margin``
    (relative to the range) and clipped to [0, 1]."""
    ratios = slice_ratios(label_dir, num_classes, slice_axis, suffix)
    low, high = ratios.min(0), ratios.max(0)
    pad = margin * (high - low)
    return [[round(float(max(lo - p, 0.0)), 6), round(float(min(hi + p, 1.0)), 6)]
            for lo, hi, p in zip(low, high, pad)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='how', required=True)
    a = sub.add_parser('from_labels')
    a.add_argument('label_dir')
    a.add_argument('--num-classes', type=int, required=True)
    a.add_argument('--slice-axis', type=int, default=2)
    a.add_argument('--over', choices=('present', 'all'), default='present',
                   help="slices a structure's ratio is averaged over")
    v = sub.add_parser('vector')
    v.add_argument('values', type=float, nargs='+')
    b = sub.add_parser('bounds')
    b.add_argument('--low', type=float, nargs='+')
    b.add_argument('--high', type=float, nargs='+')
    b.add_argument('--from-labels', metavar='LABEL_DIR')
    b.add_argument('--num-classes', type=int)
    b.add_argument('--slice-axis', type=int, default=2)
    b.add_argument('--margin', type=float, default=0.1)
    args = parser.parse_args(argv)
    try:
        result = _run(args)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    # allow_nan=False: never print NaN, which is not JSON
    print(json.dumps(result, allow_nan=False))


def _run(args: argparse.Namespace) -> dict:
    """The JSON object the command prints; bad input raises ValueError / FileNotFoundError."""
    from visiondiv.models.losses import validate_bounds, validate_prior
    if args.how == 'from_labels':
        return dict(prior=prior_from_labels(args.label_dir, args.num_classes, args.slice_axis, over=args.over))
    if args.how == 'vector':
        validate_prior(args.values, len(args.values))
        return dict(prior=args.values)      # as given: the float32 check tensor would print 0.8999999761...
    if args.from_labels:
        if args.num_classes is None:
            raise ValueError('bounds --from-labels needs --num-classes')
        bounds = bounds_from_labels(args.from_labels, args.num_classes, args.slice_axis, args.margin)
    elif args.low and args.high:
        if len(args.low) != len(args.high):
            raise ValueError('--low and --high need one value per class each')
        bounds = [[lo, hi] for lo, hi in zip(args.low, args.high)]
    else:
        raise ValueError('bounds needs --low and --high, or --from-labels')
    validate_bounds(bounds)
    return dict(type='ClassRatioBoundLoss', bounds=bounds)


if __name__ == '__main__':
    main()
