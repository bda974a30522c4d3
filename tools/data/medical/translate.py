"""Translate a folder of CT volumes into pseudo-MR NIfTI volumes with a trained CT -> MR translator (CycleGAN).

Each CT volume (HU) is clipped to ``--window`` and scaled to [0, 1] (``normalize_volume(vol, 'window')``,
the translator's training contrast), translated slice by slice along ``--slice-axis`` by the
checkpoint's CT -> MR generator, and written as float32 NIfTI with the input's affine and voxel
spacing. Pseudo-MR values are the generator's [0, 1] output times ``--scale`` (default 1000): arbitrary
MR-like units, as real MR has no absolute scale; MR datasets re-normalise them per volume
(``normalize='percentile'``). With ``--labels``, each CT volume's tumour label (same file name) is
copied unchanged to ``--out-labels``: the pseudo-MR keeps the CT anatomy, so the CT labels are its labels.

The output is written into a temporary folder beside ``--out`` (and ``--out-labels``) and renamed
when every volume is done, so a failed run leaves nothing behind; ``--out`` must not exist yet (or be
an empty folder).

    python tools/data/medical/translate.py work_dirs/cyclegan/iter_20000.pth \\
        --ct-dir data/toy_ct_mr/ct/train/images --out data/pseudo_mr/images \\
        --labels data/toy_ct_mr/ct/train/labels --out-labels data/pseudo_mr/labels
"""
import argparse
import glob
import os.path as osp
import shutil
from typing import Callable, List, Optional, Sequence

import numpy as np

#: pseudo-MR [0, 1] -> MR-like arbitrary units (the toy T2w MR spans about 0..1000)
MR_SCALE = 1000.0


def _check_out_folders(out: str, out_labels: Optional[str]) -> None:
    if out_labels is None:
        return
    a, b = osp.abspath(out), osp.abspath(out_labels)
    if a == b or osp.commonpath([a, b]) in (a, b):
        raise ValueError(f'--out {out} and --out-labels {out_labels} must be two separate folders, '
                         'neither inside the other')


def translate_volume(generator, path: str, out_path: str, window: Sequence[float], slice_axis: int,
                     batch_size: int, device: str, scale: float = MR_SCALE) -> tuple:
    """Translate the CT volume ``path`` into the pseudo-MR ``out_path``; returns the volume's shape.

    Errors name ``path``: unreadable or non-3-D volume, NaN / inf voxels, a bad slice axis.
    """
    import nibabel as nib

    from visiondiv.apis.translation import translate_slices
    from visiondiv.datasets.medical import load_nifti, normalize_volume
    from visiondiv.utils.validation import check_finite
    vol, _ = load_nifti(path)
    check_finite(vol, path)
    if not -3 <= slice_axis < 3:
        raise ValueError(f'--slice-axis {slice_axis} is not an axis of the 3-D volume {path}')
    ct = normalize_volume(vol, 'window', window=window)
    slices = np.moveaxis(ct, slice_axis, 0)
    pseudo = translate_slices(generator, slices, batch_size=batch_size, device=device)
    pseudo = np.moveaxis(pseudo, 0, slice_axis).astype(np.float32) * np.float32(scale)
    src = nib.load(path)                       # header only: affine, zooms, units of the input
    header = src.header.copy()
    header.set_data_dtype(np.float32)
    header.set_slope_inter(1.0, 0.0)           # CT files often carry an int16 scaling; pseudo-MR is raw float
    header['cal_min'], header['cal_max'] = 0.0, 0.0
    header['descrip'] = b'visiondiv pseudo-MR (CycleGAN CT->MR), arbitrary units'
    nib.save(nib.Nifti1Image(np.ascontiguousarray(pseudo), src.affine, header), out_path)
    return vol.shape


def check_label(label_path: str, image_path: str, shape: tuple) -> None:
    """Refuse a label volume that is unreadable, not integer or of another shape than its image (naming it)."""
    from visiondiv.datasets.medical import load_nifti
    from visiondiv.utils.validation import check_labels
    label, _ = load_nifti(label_path)
    if label.shape != shape:
        raise ValueError(f'{label_path}: label shape {label.shape} differs from image {shape} ({image_path})')
    check_labels(label, label_path)


def translate_folder(checkpoint: str, ct_dir: str, out: str, labels: Optional[str] = None,
                     out_labels: Optional[str] = None, window: Sequence[float] = (-1000.0, 400.0),
                     device: str = 'cpu', batch_size: int = 16, slice_axis: int = 2, suffix: str = '.nii.gz',
                     config: Optional[str] = None, target_domain: str = 'mr', scale: float = MR_SCALE,
                     log: Callable[[str], None] = print) -> List[str]:
    """Translate every ``*suffix`` volume of ``ct_dir`` into ``out`` (and copy labels); returns the file names.

    ``out`` / ``out_labels`` are written atomically (``visiondiv.engine.fileio.write_folder_atomically``).
    """
    from mmengine.utils import ProgressBar

    from visiondiv.apis.translation import load_translator
    from visiondiv.utils.validation import check_window
    if (labels is None) != (out_labels is None):
        raise ValueError('--labels and --out-labels go together: give both or neither')
    if batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {batch_size}')
    window = check_window(window, '--window')
    _check_out_folders(out, out_labels)
    files = sorted(glob.glob(osp.join(ct_dir, '*' + suffix)))
    if not files:
        raise FileNotFoundError(f"no '*{suffix}' volumes in {ct_dir} (--ct-dir)")
    if labels is not None:
        missing = [p for p in (osp.join(labels, osp.basename(f)) for f in files) if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(f'{len(missing)} label volume(s) missing in {labels} (--labels): {missing[:5]}')
    generator = load_translator(checkpoint, target_domain=target_domain, device=device, config=config)
    from visiondiv.engine.fileio import write_folder_atomically

    def run(img_dir: str, lab_dir: Optional[str]) -> dict:
        progress = ProgressBar(len(files))
        for path in files:
            name = osp.basename(path)
            shape = translate_volume(generator, path, osp.join(img_dir, name), window, slice_axis, batch_size,
                                     device, scale)
            if lab_dir is not None:
                check_label(osp.join(labels, name), path, shape)
                shutil.copyfile(osp.join(labels, name), osp.join(lab_dir, name))
            progress.update()
        return {'pseudo-MR': len(files)}

    if out_labels is None:
        write_folder_atomically(out, lambda img_dir: run(img_dir, None))
    else:    # a failure in any volume leaves neither folder behind
        write_folder_atomically(
            out, lambda img_dir: write_folder_atomically(out_labels, lambda lab_dir: run(img_dir, lab_dir)))
    log(f'\n{len(files)} pseudo-MR volumes written to {out}' + (f', labels to {out_labels}' if out_labels else ''))
    return [osp.basename(f) for f in files]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='CycleGAN checkpoint written by tools/train.py')
    parser.add_argument('--ct-dir', required=True, help='folder of CT volumes (HU)')
    parser.add_argument('--out', required=True, help='new folder for the pseudo-MR volumes')
    parser.add_argument('--labels', help='folder of the CT tumour labels (same file names)')
    parser.add_argument('--out-labels', help='new folder for the copied labels')
    parser.add_argument('--window', nargs=2, type=float, default=[-1000.0, 400.0], metavar=('LO', 'HI'),
                        help='CT window in HU (that of the translator training)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=16, help='slices per forward pass')
    parser.add_argument('--slice-axis', type=int, default=2)
    parser.add_argument('--suffix', default='.nii.gz')
    parser.add_argument('--config', help='translator config, if the checkpoint has none in meta.cfg')
    parser.add_argument('--target-domain', default='mr', help='generator to use (key of generators)')
    parser.add_argument('--scale', type=float, default=MR_SCALE, help='pseudo-MR [0, 1] -> these units')
    args = parser.parse_args(argv)
    translate_folder(args.checkpoint, args.ct_dir, args.out, args.labels, args.out_labels, args.window, args.device,
                     args.batch_size, args.slice_axis, args.suffix, args.config, args.target_domain, args.scale)


if __name__ == '__main__':
    main()
