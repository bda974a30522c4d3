"""Convert public medical segmentation sets into visiondiv's NIfTI layout for MedicalSliceDataset.

Output layout (one folder per domain, e.g. an MR sequence or a modality)::

    OUT/<domain>/<split>/images/case_<id>.nii.gz
    OUT/<domain>/<split>/labels/case_<id>.nii.gz        # integer classes 0..K

Supported official layouts:

``ivdm3seg`` (spine, IVDM3Seg challenge; SFDA: Water -> In-phase)::

    ROOT/<NN>/<NN>_{fat,inn,opp,wat}.nii  and  ROOT/<NN>/<NN>_Labels.nii     (discs: any non-zero -> 1)

``promise12`` (prostate, PROMISE12 training parts; MetaImage, read with SimpleITK)::

    ROOT/**/Case<NN>.mhd (+ .raw)  and  ROOT/**/Case<NN>_segmentation.mhd    (prostate: non-zero -> 1)

``mmwhs`` (heart, MM-WHS 2017; SFDA: MR -> CT)::

    ROOT/{ct_train,mr_train}/{ct,mr}_train_<NNNN>_{image,label}.nii.gz
    labels are MM-WHS codes; --structures picks them in order (default AA, LAC, LVC, MYO as in SFDA:
    820 420 500 205 -> classes 1..4, every other code -> 0)

``nsclc`` (lung CT with tumour contours, e.g. TCIA NSCLC-Radiomics; the CT domain of CT -> MR
augmentation); one folder per patient, either DICOM or NIfTI::

    ROOT/<patient>/**/*.dcm: one CT series + one RTSTRUCT (ROIName matched by --roi) or, without an
                             RTSTRUCT, one binary DICOM SEG (SegmentLabel matched by --roi)
    ROOT/<patient>/image.nii[.gz] + ROOT/<patient>/label.nii[.gz]        (label: non-zero -> 1)
    -> OUT/ct/train/{images,labels}/ct_<patient>.nii.gz        (HU, the series' spacing, tumour = 1)

``t2mr`` (T2w MR NIfTI, the MR domain; layout of tools/data/toy_ct_mr.py)::

    ROOT/images/<case>.nii[.gz]  (+ ROOT/labels/<case>.nii[.gz] for labelled cases; non-zero -> 1)
    -> OUT/mr/{train,test}/{images,labels}/mr_<case>.nii.gz    labelled cases (the last --num-test: test)
       OUT/mr/unlabelled/images/mr_<case>.nii.gz               cases without a label

Volumes are written with an axis-aligned affine of their spacing (the orientation is not kept).
The last ``--num-test`` cases (sorted by id) of each domain go to ``test``, the rest to ``train``
(0 <= ``--num-test`` < number of cases). The conversion writes into a temporary folder beside
``--out`` and renames it to ``--out`` when every case is written, so a failed conversion leaves
nothing behind; ``--out`` must not exist yet (or be an empty folder). Images with NaN or inf voxels
are refused, naming the file.

    python tools/data/medical/convert.py ivdm3seg ROOT --out data/ivdm3seg --domains wat inn --num-test 3
    python tools/data/medical/convert.py promise12 ROOT --out data/prostate --num-test 10
    python tools/data/medical/convert.py mmwhs ROOT --out data/mmwhs --num-test 4
    python tools/data/medical/convert.py nsclc NSCLC-Radiomics --out data/nsclc --roi 'GTV-1'
    python tools/data/medical/convert.py t2mr ROOT --out data/t2mr --num-test 12
"""
import argparse
import glob
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: MM-WHS label codes
MMWHS_CODES = {'MYO': 205, 'LAC': 420, 'LVC': 500, 'RAC': 550, 'RVC': 600, 'AA': 820, 'PA': 850}
IVDM3SEG_MODALITIES = ('fat', 'inn', 'opp', 'wat')


def remap_labels(label: np.ndarray, codes: Sequence[int], path: str) -> np.ndarray:
    """Class k+1 where ``label == codes[k]``, 0 elsewhere; refuses non-integer labels (naming ``path``)."""
    from visiondiv.utils.validation import check_labels
    check_labels(label, path)
    out = np.zeros(label.shape, np.uint8)
    for k, code in enumerate(codes):
        out[label == code] = k + 1
    return out


def binarize(label: np.ndarray, path: str) -> np.ndarray:
    """1 where ``label`` is non-zero; refuses non-integer labels (naming ``path``)."""
    from visiondiv.utils.validation import check_labels
    return (check_labels(label, path) != 0).astype(np.uint8)


def write_case(out: str, domain: str, split: str, case: str, image: Tuple[np.ndarray, tuple],
               label: Optional[np.ndarray], image_path: str, label_path: Optional[str], prefix: str = 'case') -> None:
    """``OUT/<domain>/<split>/{images,labels}/<prefix>_<case>.nii.gz``; no ``labels`` file when ``label`` is None."""
    from visiondiv.datasets import save_nifti
    from visiondiv.utils.validation import check_finite
    img, spacing = image
    check_finite(img, image_path)
    if label is not None and img.shape != label.shape:
        raise ValueError(f'{label_path}: label shape {label.shape} differs from image {img.shape} ({image_path})')
    for sub, vol in (('images', img.astype(np.float32)), ('labels', label)):
        if vol is None:
            continue
        folder = osp.join(out, domain, split, sub)
        os.makedirs(folder, exist_ok=True)
        save_nifti(osp.join(folder, f'{prefix}_{case}.nii.gz'), vol, spacing)


def split_of(index: int, total: int, num_test: int) -> str:
    return 'test' if index >= total - num_test else 'train'


def check_num_test(num_test: int, total: int, where: str) -> None:
    """Refuse a test split that is negative or takes every case (nothing left to train on)."""
    if not 0 <= num_test < total:
        raise ValueError(f'--num-test {num_test} must be >= 0 and smaller than the {total} cases of {where}')


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
    from visiondiv.datasets import read_image
    images = sorted(p for p in glob.glob(osp.join(root, '**', 'Case*.mhd'), recursive=True)
                    if re.fullmatch(r'Case\d+\.mhd', osp.basename(p)))
    if not images:
        raise FileNotFoundError(f'no Case<NN>.mhd files under {root}')
    check_num_test(num_test, len(images), root)
    for i, image_path in enumerate(images):
        case = re.fullmatch(r'Case(\d+)\.mhd', osp.basename(image_path)).group(1)
        label_path = image_path[:-len('.mhd')] + '_segmentation.mhd'
        label = binarize(read_image(label_path)[0], label_path)
        write_case(out, domain, split_of(i, len(images), num_test), case, read_image(image_path), label,
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


NIFTI_SUFFIXES = ('.nii.gz', '.nii')


def _nifti(folder: str, stem: str) -> Optional[str]:
    """``folder/<stem>.nii.gz`` or ``.nii``, whichever exists (None if neither)."""
    found = [osp.join(folder, stem + suffix) for suffix in NIFTI_SUFFIXES]
    return next((p for p in found if osp.isfile(p)), None)


def _dicom_headers(folder: str) -> List[Tuple[str, str, str]]:
    """(path, Modality, SeriesInstanceUID) of every file under ``folder`` with the DICOM preamble."""
    import pydicom
    from visiondiv.datasets.medical_io import is_dicom_file
    found = []
    for parent, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            path = osp.join(parent, name)
            if not is_dicom_file(path):
                continue
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=['Modality', 'SeriesInstanceUID'])
            except Exception as err:    # pydicom raises several types for corrupt files
                raise ValueError(f'{path}: pydicom cannot read it ({type(err).__name__}: {err})') from None
            found.append((path, str(ds.get('Modality')), str(ds.get('SeriesInstanceUID'))))
    return found


def nsclc_patient(folder: str, roi: str) -> Tuple[Tuple[np.ndarray, tuple], np.ndarray, str, str]:
    """(image, spacing), tumour mask, image path and label path of one patient folder (see ``nsclc`` above)."""
    from visiondiv.datasets import load_nifti, read_dicom_seg, read_dicom_series, read_rtstruct
    image_path, label_path = _nifti(folder, 'image'), _nifti(folder, 'label')
    if image_path and label_path:
        return load_nifti(image_path), binarize(load_nifti(label_path)[0], label_path), image_path, label_path
    headers = _dicom_headers(folder)
    series = sorted({(osp.dirname(p), uid) for p, modality, uid in headers if modality == 'CT'})
    if len(series) != 1:
        raise ValueError(f'{folder}: expected one CT series (or image.nii.gz + label.nii.gz), found {len(series)}: '
                         f'{[f"{uid} in {d}" for d, uid in series]}')
    vol, spacing, info = read_dicom_series(*series[0])
    for modality, read in (('RTSTRUCT', read_rtstruct), ('SEG', read_dicom_seg)):
        labels = [p for p, m, _ in headers if m == modality]
        if len(labels) > 1:
            raise ValueError(f'{folder}: {len(labels)} {modality} files, expected one: {labels}')
        if labels:
            return (vol, spacing), read(labels[0], info, roi), info.folder, labels[0]
    raise FileNotFoundError(f'{folder}: no RTSTRUCT or SEG file next to the CT series in {info.folder}')


def convert_nsclc(root: str, out: str, roi: str) -> Dict[str, int]:
    patients = sorted(p for p in os.listdir(root) if osp.isdir(osp.join(root, p))) if osp.isdir(root) else []
    if not patients:
        raise FileNotFoundError(f'no patient folders in {root}')
    for patient in patients:
        image, label, image_path, label_path = nsclc_patient(osp.join(root, patient), roi)
        write_case(out, 'ct', 'train', patient, image, label, image_path, label_path, prefix='ct')
    return {'ct': len(patients)}


def convert_t2mr(root: str, out: str, num_test: int) -> Dict[str, int]:
    from visiondiv.datasets import load_nifti
    images = sorted(p for p in glob.glob(osp.join(root, 'images', '*')) if p.endswith(NIFTI_SUFFIXES))
    if not images:
        raise FileNotFoundError(f"no NIfTI volumes (*.nii.gz, *.nii) in {osp.join(root, 'images')}")
    cases = []
    for path in images:
        case = osp.basename(path)[:-len(next(s for s in NIFTI_SUFFIXES if path.endswith(s)))]
        cases.append((case, path, _nifti(osp.join(root, 'labels'), case)))
    labelled = [c for c in cases if c[2]]
    if labelled or num_test:
        check_num_test(num_test, len(labelled), f"the labelled cases in {osp.join(root, 'labels')}")
    for i, (case, image_path, label_path) in enumerate(labelled):
        label = binarize(load_nifti(label_path)[0], label_path)
        write_case(out, 'mr', split_of(i, len(labelled), num_test), case, load_nifti(image_path), label,
                   image_path, label_path, prefix='mr')
    unlabelled = [c for c in cases if not c[2]]
    for case, image_path, _ in unlabelled:
        write_case(out, 'mr', 'unlabelled', case, load_nifti(image_path), None, image_path, None, prefix='mr')
    return {'mr (labelled)': len(labelled), 'mr (unlabelled)': len(unlabelled)}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    for name in ('ivdm3seg', 'promise12', 'mmwhs', 'nsclc', 't2mr'):
        p = sub.add_parser(name)
        p.add_argument('root', help='folder of the official release')
        p.add_argument('--out', required=True)
        if name != 'nsclc':            # CT is all training data
            p.add_argument('--num-test', type=int, default=0, help='last cases of each domain kept for testing')
        if name == 'nsclc':
            p.add_argument('--roi', default='GTV-1',
                           help='regular expression for the whole tumour ROIName (RTSTRUCT) or SegmentLabel (SEG)')
        if name == 'ivdm3seg':
            p.add_argument('--domains', nargs='+', default=['wat', 'inn'], help='modalities to convert')
        if name == 'mmwhs':
            p.add_argument('--structures', nargs='+', default=['AA', 'LAC', 'LVC', 'MYO'])
    args = parser.parse_args(argv)
    runners: Dict[str, Callable[[str], Dict[str, int]]] = {
        'ivdm3seg': lambda out: convert_ivdm3seg(args.root, out, args.domains, args.num_test),
        'promise12': lambda out: convert_promise12(args.root, out, args.num_test),
        'mmwhs': lambda out: convert_mmwhs(args.root, out, args.num_test, args.structures),
        'nsclc': lambda out: convert_nsclc(args.root, out, args.roi),
        't2mr': lambda out: convert_t2mr(args.root, out, args.num_test),
    }
    from visiondiv.engine.fileio import write_folder_atomically
    counts = write_folder_atomically(args.out, runners[args.dataset])
    print(', '.join(f'{d}: {n} cases' for d, n in counts.items()) + f' written to {args.out}')


if __name__ == '__main__':
    main()
