"""CT -> MR prior augmentation on the toy CT/MR set: six training sets for the MR tumour segmenter.

For each seed: train the MR-only UNet (the first arm; frozen, it is also the tumour-aware term's judge),
train the plain and the tumour-aware CycleGAN translators (``tools/train.py``), translate the labelled
CT set into pseudo-MR with each (``tools/data/medical/translate.py``), then train the 2D UNet on each
other arm's training set. Every UNet is tested on the MR test set (Dice, HD95 in mm and volume ratio
of the tumour per 3-D volume, ``MedicalVolumeMetric``):

    MR only | MR + standard aug. | MR + raw CT | MR + histogram-matched CT |
    MR + pseudo-MR, CycleGAN | MR + pseudo-MR, tumour-aware

The intensity KL of each arm's CT-derived images to real MR (the MR test volumes) is computed on what
the segmenter sees: every volume normalised per volume with percentiles to [0, 1] (histogram-matched
CT: then matched slice by slice, as the arm's pipeline does), all voxels pooled, 256 bins over [0, 1],
KL(P_CT-derived || P_MR) in nats (``visiondiv.evaluation.functional.intensity_kl``).
The table (benchmarks/result_tables.py) goes to table.md and the results region of configs/crossmodal/README.md.

    python benchmarks/crossmodal_study.py --seeds 0 1 2        # generates data/toy_ct_mr first if needed
    python benchmarks/crossmodal_study.py --table-only         # the table again, from runs.json
    python benchmarks/crossmodal_study.py --rows 'MR + pseudo-MR, tumour-aware'   # re-run one arm
"""
import argparse
import functools
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Optional

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # result_tables.py / sfda_study.py beside this file
from result_tables import CROSSMODAL_STUDY_ROWS, crossmodal_study_table, publish  # noqa: E402
from sfda_study import train  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = 'data/toy_ct_mr'
TRANSLATORS = {'cyclegan': 'configs/crossmodal/cyclegan_lsgan-resnet_600it_toy-ct-mr.py',
               'tumour_aware': 'configs/crossmodal/tumour-aware-cyclegan_lsgan-resnet_600it_toy-ct-mr.py'}
TRANSLATOR_ITERS = 600
SEG = 'configs/crossmodal/unet_{}_400it_toy-ct-mr.py'
#: row -> (segmentation config name, translator whose pseudo-MR it trains on)
ARMS = {
    'MR only': ('mr-only', None),
    'MR + standard aug.': ('mr-std-aug', None),
    'MR + raw CT': ('mr+ct', None),
    'MR + histogram-matched CT': ('mr+histmatch-ct', None),
    'MR + pseudo-MR, CycleGAN': ('mr+pseudo-mr-cyclegan', 'cyclegan'),
    'MR + pseudo-MR, tumour-aware': ('mr+pseudo-mr-tumour-aware', 'tumour_aware'),
}
assert tuple(ARMS) == CROSSMODAL_STUDY_ROWS
#: arms that add the labelled CT itself -> whether their pipeline histogram-matches it (for the intensity KL)
CT_ARMS = {'MR + raw CT': False, 'MR + histogram-matched CT': True}


def normalized_volumes(img_dir: str, histogram_matching: bool = False) -> np.ndarray:
    """Every voxel of the folder's volumes, each volume normalised as the segmentation configs do."""
    from visiondiv.datasets import load_nifti, normalize_volume
    match = None
    if histogram_matching:   # the arm's transform, with the config's reference (the labelled MR volumes)
        from visiondiv.datasets.transforms.intensity import HistogramMatching
        match = HistogramMatching(reference=sorted(glob.glob(osp.join(ROOT, DATA, 'mr/train/images/*.nii.gz'))))
    values = []
    for path in sorted(glob.glob(osp.join(img_dir, '*.nii.gz'))):
        vol = normalize_volume(load_nifti(path)[0], 'percentile')
        if match is not None:
            vol = np.stack([match(image=np.ascontiguousarray(vol[:, :, k]))['image'] for k in range(vol.shape[2])],
                           axis=2)
        values.append(vol.ravel())
    if not values:
        raise FileNotFoundError(f'no *.nii.gz volumes in {img_dir}')
    return np.concatenate(values)


@functools.lru_cache(maxsize=None)
def intensity_kl_to_mr(img_dir: str, histogram_matching: bool = False) -> float:
    """KL of a folder's voxels to the MR test volumes' (each read once per study: the results are cached)."""
    from visiondiv.evaluation.functional import intensity_kl
    return intensity_kl(normalized_volumes(img_dir, histogram_matching), mr_test_voxels(), bins=256,
                        value_range=(0.0, 1.0))


@functools.lru_cache(maxsize=1)
def mr_test_voxels() -> np.ndarray:
    """The reference of every intensity KL: the real MR test volumes, normalised as the segmenter reads them."""
    return normalized_volumes(osp.join(ROOT, DATA, 'mr/test/images'))


def run(cmd: list, log_path: str) -> None:
    """Run a tool from the repository root, its output in ``log_path``; a failure names the log."""
    with open(log_path, 'w') as log:
        if subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode:
            raise RuntimeError(f'{" ".join(cmd[1:3])} failed; see {log_path}')


def translate(variant: str, seed: int, work_dir: str, segmenter: str) -> str:
    """Train one translator (the tumour-aware one judged by the frozen ``segmenter`` checkpoint) and translate
    the labelled CT set; returns the pseudo-MR data root."""
    tdir = osp.join(work_dir, f'{variant}_seed{seed}')
    os.makedirs(tdir, exist_ok=True)
    options = [f'randomness.seed={seed}']
    if variant == 'tumour_aware':
        options.append(f'model.segmentor.checkpoint={segmenter}')
    run([sys.executable, 'tools/train.py', TRANSLATORS[variant], '--work-dir', tdir, '--cfg-options', *options],
        osp.join(tdir, 'run.log'))
    pseudo = osp.join(work_dir, f'pseudo_{variant}_seed{seed}')
    if osp.isdir(pseudo):
        shutil.rmtree(pseudo)
    run([sys.executable, 'tools/data/medical/translate.py', osp.join(tdir, f'iter_{TRANSLATOR_ITERS}.pth'),
         '--ct-dir', f'{DATA}/ct/train/images', '--labels', f'{DATA}/ct/train/labels',
         '--out', osp.join(pseudo, 'images'), '--out-labels', osp.join(pseudo, 'labels')],
        osp.join(tdir, 'translate.log'))
    return pseudo


def seg_dir(work_dir: str, name: str, seed: int) -> str:
    """Work dir of one segmentation arm and seed."""
    return osp.join(work_dir, f"unet_{name.replace('+', 'plus_')}_seed{seed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', default='benchmarks/results/crossmodal_study')
    parser.add_argument('--work-dir', default='work_dirs/crossmodal_study')
    parser.add_argument('--table-only', action='store_true', help='rebuild the table from runs.json')
    parser.add_argument('--rows', nargs='+', default=list(ARMS), metavar='ROW',
                        help='arms to (re)run (with the translator they need); the others keep their runs.json '
                             "entries (pseudo-MR arms need the MR-only arm's checkpoints in --work-dir)")
    args = parser.parse_args()
    os.makedirs(osp.join(ROOT, args.out), exist_ok=True)
    runs_path = osp.join(ROOT, args.out, 'runs.json')
    runs = json.load(open(runs_path)) if osp.exists(runs_path) else {}
    unknown = sorted(set(args.rows) - set(ARMS))
    if unknown:
        parser.error(f'--rows: unknown rows {unknown}; choose from {list(ARMS)}')
    timing_path = osp.join(ROOT, args.out, 'timing.json')
    timing = json.load(open(timing_path)) if osp.exists(timing_path) else {}
    t_all = time.time()
    if not args.table_only:
        subprocess.run([sys.executable, 'tools/data/toy_ct_mr.py', '--out', DATA], cwd=ROOT, check=True)
    for seed in [] if args.table_only else args.seeds:
        t0 = time.time()
        pseudo: dict = {}
        for row, (name, variant) in ARMS.items():
            if row not in args.rows:
                continue
            if variant is not None and variant not in pseudo:
                t1 = time.time()
                segmenter = osp.join(seg_dir(args.work_dir, ARMS['MR only'][0], seed), 'iter_400.pth')
                pseudo[variant] = translate(variant, seed, args.work_dir, segmenter)
                timing[f'translator {variant}/{seed}'] = round(time.time() - t1)
            extra = []
            kl: Optional[float] = None
            if row in CT_ARMS:
                kl = intensity_kl_to_mr(osp.join(ROOT, DATA, 'ct/train/images'), CT_ARMS[row])
            if variant is not None:
                extra = ['train_dataloader.dataset.datasets.1.data_root=' + pseudo[variant] + '/']
                kl = intensity_kl_to_mr(osp.join(ROOT, pseudo[variant], 'images'))
            t1 = time.time()
            runs[f'{row}/{seed}'] = train(SEG.format(name), seg_dir(args.work_dir, name, seed), seed, extra)
            timing[f'{row}/{seed}'] = round(time.time() - t1)
            if kl is not None:
                runs[f'{row}/{seed}']['intensity_kl'] = kl
        print(f'seed {seed}: {time.time() - t0:.0f} s', flush=True)
        json.dump(runs, open(runs_path, 'w'), indent=1)
    if not args.table_only:
        key = 'total' if set(args.rows) == set(ARMS) else f'total of --rows {" | ".join(args.rows)}'
        timing[key] = round(time.time() - t_all)
        json.dump(timing, open(timing_path, 'w'), indent=1)
        print(f'study: {timing[key] / 60:.1f} min', flush=True)

    # the rows present (a fresh --out with --rows has only those); the READMEs quote the default results only
    present = {k.rsplit('/', 1)[0] for k in runs}
    publish(crossmodal_study_table(runs, [row for row in ARMS if row in present]), osp.join(ROOT, args.out),
            update_readmes=args.out == parser.get_default('out'))


if __name__ == '__main__':
    main()
