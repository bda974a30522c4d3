"""Estimate a class-ratio prior for source-free adaptation (SFDA), and check a given one.

Three ways:
  from_labels  mean class ratio of the source label slices (only slices that contain a structure
               count for that structure's ratio, as SFDA's anatomical prior); background takes the rest;
  vector       a user-given vector, validated (length = number of classes, non-negative, sums to 1);
  bounds       per-class [low, high] ratio bounds; prints the config of the bounded penalty.

    python tools/sfda/estimate_prior.py from_labels data/toy_shift/source/train/labels --num-classes 3
    python tools/sfda/estimate_prior.py vector 0.9 0.08 0.02
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import List

import numpy as np


def prior_from_labels(label_dir: str, num_classes: int, slice_axis: int = 2, suffix: str = '.nii.gz') -> List[float]:
    """Class-ratio prior from labelled (source) volumes; the labels never enter the adaptation itself."""
    from visiondiv.datasets import load_nifti
    files = sorted(glob.glob(osp.join(label_dir, '*' + suffix)))
    if not files:
        raise FileNotFoundError(f"no '*{suffix}' label volumes in {label_dir}")
    sums, counts = np.zeros(num_classes), np.zeros(num_classes)
    for path in files:
        lab, _ = load_nifti(path)
        if lab.min() < 0 or lab.max() >= num_classes:
            raise ValueError(f'{path}: labels outside [0, {num_classes})')
        moved = np.moveaxis(lab.astype(np.int64), slice_axis, 0).reshape(lab.shape[slice_axis], -1)
        for sl in moved:
            ratio = np.bincount(sl, minlength=num_classes) / sl.size
            present = ratio > 0
            present[0] = False
            sums[present] += ratio[present]
            counts[present] += 1
    fg = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    fg[0] = 0.0
    if fg.sum() >= 1:
        raise ValueError(f'foreground ratios sum to {fg.sum():.3f} >= 1; cannot form a prior')
    fg[0] = 1 - fg.sum()
    return [round(float(v), 6) for v in fg]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='how', required=True)
    a = sub.add_parser('from_labels')
    a.add_argument('label_dir')
    a.add_argument('--num-classes', type=int, required=True)
    a.add_argument('--slice-axis', type=int, default=2)
    v = sub.add_parser('vector')
    v.add_argument('values', type=float, nargs='+')
    b = sub.add_parser('bounds')
    b.add_argument('--low', type=float, nargs='+', required=True)
    b.add_argument('--high', type=float, nargs='+', required=True)
    args = parser.parse_args(argv)
    from visiondiv.models.losses import validate_prior
    if args.how == 'from_labels':
        prior = prior_from_labels(args.label_dir, args.num_classes, args.slice_axis)
    elif args.how == 'vector':
        try:
            prior = validate_prior(args.values, len(args.values)).tolist()
        except ValueError as err:
            sys.exit(f'error: {err}')
    else:
        if len(args.low) != len(args.high) or any(lo > hi for lo, hi in zip(args.low, args.high)):
            sys.exit('error: --low and --high need the same length and low <= high for every class')
        print(json.dumps(dict(bounds=list(zip(args.low, args.high)))))
        sys.exit('error: bounded priors (penalty outside [low, high]) are not implemented yet; '
                 'use from_labels or vector')
    print(json.dumps(dict(prior=prior)))


if __name__ == '__main__':
    main()
