"""Convert public medical segmentation sets into visiondiv's NIfTI layout for MedicalSliceDataset.

Output layout (one folder per domain, e.g. an MR sequence or a modality)::

    OUT/<domain>/<split>/images/case_<id>.nii.gz
    OUT/<domain>/<split>/labels/case_<id>.nii.gz        # integer classes 0..K

Supported official layouts:

``ivdm3seg`` (spine, IVDM3Seg challenge; SFDA: Water -> In-phase)::

    ROOT/<NN>/<NN>_{fat,inn,opp,wat}.nii  and  ROOT/<NN>/<NN>_Labels.nii     (discs: any non-zero -> 1)

``promise12`` (prostate, PROMISE12 training parts; MetaImage)::

    ROOT/**/Case<NN>.mhd (+ .raw)  and  ROOT/**/Case<NN>_segmentation.mhd    (prostate: non-zero -> 1)

``mmwhs`` (heart, MM-WHS 2017; SFDA: MR -> CT)::

    ROOT/{ct_train,mr_train}/{ct,mr}_train_<NNNN>_{image,label}.nii.gz
    labels are MM-WHS codes; --structures picks them in order (default AA, LAC, LVC, MYO as in SFDA:
    820 420 500 205 -> classes 1..4, every other code -> 0)

The last ``--num-test`` cases (sorted by id) of each domain go to ``test``, the rest to ``train``
(0 <= ``--num-test`` < number of cases). The conversion writes into a temporary folder beside
``--out`` and renames it to ``--out`` when every case is written, so a failed conversion leaves
nothing behind; ``--out`` must not exist yet (or be an empty folder). Images with NaN or inf voxels
are refused, naming the file.

    python tools/data/medical/convert.py ivdm3seg ROOT --out data/ivdm3seg --domains wat inn --num-test 3
    python tools/data/medical/convert.py promise12 ROOT --out data/prostate --num-test 10
    python tools/data/medical/convert.py mmwhs ROOT --out data/mmwhs --num-test 4
"""
import argparse
import glob
import os
import os.path as osp
import re
import shutil
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: MM-WHS label codes
MMWHS_CODES = {'MYO': 205, 'LAC': 420, 'LVC': 500, 'RAC': 550, 'RVC': 600, 'AA': 820, 'PA': 850}
IVDM3SEG_MODALITIES = ('fat', 'inn', 'opp', 'wat')


def remap_labels(label: np.ndarray, codes: Sequence[int], path: str) -> np.ndarray:
    """Class k+1 where ``label == codes[k]``, 0 elsewhere; refuses non-integer labels (naming ``path``)."""
    from visiondiv.datasets import check_labels
    check_labels(label, path)
    out = np.zeros(label.shape, np.uint8)
    for k, code in enumerate(codes):
        out[label == code] = k + 1
    return out


def binarize(label: np.ndarray, path: str) -> np.ndarray:
    """1 where ``label`` is non-zero; refuses non-integer labels (naming ``path``)."""
    from visiondiv.datasets import check_labels
    return (check_labels(label, path) != 0).astype(np.uint8)


def write_case(out: str, domain: str, split: str, case: str, image: Tuple[np.ndarray, tuple], label: np.ndarray,
               image_path: str, label_path: str) -> None:
    from visiondiv.datasets import save_nifti
    from visiondiv.datasets.medical import check_finite
    img, spacing = image
    check_finite(img, image_path)
    if img.shape != label.shape:
        raise ValueError(f'{label_path}: label shape {label.shape} differs from image {img.shape} ({image_path})')
    for sub, vol in (('images', img.astype(np.float32)), ('labels', label)):
        folder = osp.join(out, domain, split, sub)
        os.makedirs(folder, exist_ok=True)
        save_nifti(osp.join(folder, f'case_{case}.nii.gz'), vol, spacing)


def split_of(index: int, total: int, num_test: int) -> str:
    return 'test' if index >= total - num_test else 'train'


def check_num_test(num_test: int, total: int, where: str) -> None:
    """Refuse a test split that is negative or takes every case (nothing left to train on)."""
    if not 0 <= num_test < total:
        raise ValueError(f'--num-test {num_test} must be >= 0 and smaller than the {total} cases of {where}')


def convert_atomically(out: str, convert: Callable[[str], Dict[str, int]]) -> Dict[str, int]:
    """``convert(folder)`` into a new folder beside ``out``, renamed to ``out`` once it has succeeded.

    On any failure the folder is removed, so ``out`` is either complete or absent. ``out`` must not
    exist or be an empty folder (a rename cannot merge into existing files).
    """
    out = osp.abspath(out)
    if osp.exists(out) and (not osp.isdir(out) or os.listdir(out)):
        raise FileExistsError(f'--out {out} exists and is not an empty folder; remove it or choose another')
    parent, created = osp.dirname(out), []
    while not osp.exists(parent):              # folders made here, removed again on failure
        created.append(parent)
        parent = osp.dirname(parent)
    os.makedirs(osp.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.partial-', dir=osp.dirname(out))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)              # mkdtemp's 0o700 would stay on the renamed folder
    try:
        counts = convert(tmp)
        os.replace(tmp, out)                   # one rename on one file system; replaces an empty out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in created:
            if osp.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        raise
    return counts


def convert_ivdm3seg(root: str, out: str, domains: Sequence[str], num_test: int) -> Dict[str, int]:
    from visiondiv.datasets import load_nifti
    for d in domains:
        if d not in IVDM3SEG_MODALITIES:
            raise ValueError(f'unknown IVDM3Seg modality {d!r}; choose from {IVDM3SEG_MODALITIES}')
    cases = sorted(c for c in os.listdir(root) if osp.isdir(osp.join(root, c)) and c.isdigit())
    if not cases:
        raise FileNotFoundError(f'no case folders (01, 02, ...) in {root}')
    check_num_test(num_test, len(cases), root)
    for i, case in enumerate(cases):
        label_path = osp.join(root, case, f'{case}_Labels.nii')
        label = binarize(load_nifti(label_path)[0], label_path)
        for d in domains:
            image_path = osp.join(root, case, f'{case}_{d}.nii')
            write_case(out, d, split_of(i, len(cases), num_test), case, load_nifti(image_path), label,
                       image_path, label_path)
    return {d: len(cases) for d in domains}


def convert_promise12(root: str, out: str, num_test: int, domain: str = 'prostate') -> Dict[str, int]:
    from visiondiv.datasets import read_metaimage
    images = sorted(p for p in glob.glob(osp.join(root, '**', 'Case*.mhd'), recursive=True)
                    if re.fullmatch(r'Case\d+\.mhd', osp.basename(p)))
    if not images:
        raise FileNotFoundError(f'no Case<NN>.mhd files under {root}')
    check_num_test(num_test, len(images), root)
    for i, image_path in enumerate(images):
        case = re.fullmatch(r'Case(\d+)\.mhd', osp.basename(image_path)).group(1)
        label_path = image_path[:-len('.mhd')] + '_segmentation.mhd'
        label = binarize(read_metaimage(label_path)[0], label_path)
        write_case(out, domain, split_of(i, len(images), num_test), case, read_metaimage(image_path), label,
                   image_path, label_path)
    return {domain: len(images)}


def convert_mmwhs(root: str, out: str, num_test: int, structures: Sequence[str],
                  modalities: Sequence[str] = ('ct', 'mr')) -> Dict[str, int]:
    from visiondiv.datasets import load_nifti
    unknown = [s for s in structures if s not in MMWHS_CODES]
    if unknown:
        raise ValueError(f'unknown MM-WHS structures {unknown}; choose from {sorted(MMWHS_CODES)}')
    codes = [MMWHS_CODES[s] for s in structures]
    listed = {}
    for m in modalities:                        # every modality checked before anything is written
        folder = osp.join(root, f'{m}_train')
        listed[m] = sorted(glob.glob(osp.join(folder, f'{m}_train_*_image.nii.gz')))
        if not listed[m]:
            raise FileNotFoundError(f'no {m}_train_<NNNN>_image.nii.gz files in {folder}')
        check_num_test(num_test, len(listed[m]), folder)
    counts = {}
    for m, images in listed.items():
        for i, image_path in enumerate(images):
            case = osp.basename(image_path).split('_')[2]
            label_path = image_path.replace('_image.nii.gz', '_label.nii.gz')
            label = remap_labels(load_nifti(label_path)[0], codes, label_path)
            write_case(out, m, split_of(i, len(images), num_test), case, load_nifti(image_path), label,
                       image_path, label_path)
        counts[m] = len(images)
    return counts


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    for name in ('ivdm3seg', 'promise12', 'mmwhs'):
        p = sub.add_parser(name)
        p.add_argument('root', help='folder of the official release')
        p.add_argument('--out', required=True)
        p.add_argument('--num-test', type=int, default=0, help='last cases of each domain kept for testing')
        if name == 'ivdm3seg':
            p.add_argument('--domains', nargs='+', default=['wat', 'inn'], help='modalities to convert')
        if name == 'mmwhs':
            p.add_argument('--structures', nargs='+', default=['AA', 'LAC', 'LVC', 'MYO'])
    args = parser.parse_args(argv)
    runners: Dict[str, Callable[[str], Dict[str, int]]] = {
        'ivdm3seg': lambda out: convert_ivdm3seg(args.root, out, args.domains, args.num_test),
        'promise12': lambda out: convert_promise12(args.root, out, args.num_test),
        'mmwhs': lambda out: convert_mmwhs(args.root, out, args.num_test, args.structures),
    }
    counts = convert_atomically(args.out, runners[args.dataset])
    print(', '.join(f'{d}: {n} cases' for d, n in counts.items()) + f' written to {args.out}')


if __name__ == '__main__':
    main()
