"""Split large DOTA images into patches, following mmrotate's img_split rules.

- Windows of ``size`` px every ``size - gap`` px; the last one in a row or
  column is moved back to end at the image border. A window is kept if the
  image covers more than ``img_rate_thr`` of it (at least one is kept).
- An object goes to a window if (object ∩ window area) / object area >= ``iof_thr``;
  coordinates are shifted by the window origin (not clipped), and a cut
  object (iof < 1) gets difficulty 2.
- Patches are padded to ``size`` with ``padding_value`` unless ``--no-padding``.
- Names are ``<image>__<size>__<x>___<y>``, which ``DOTAMetric(merge_patches=True)`` parses.
- Multi-scale (``--rates``): a window of ``size / rate`` px at each rate.
- Images of more than 8 bits per sample (a 16-bit PNG/TIFF of 12-bit data) are brought to 8 bits by
  ``--bit-depth`` (``auto``: by the data's own bit depth; ``8``..``16``; ``refuse``), the rule training's
  ``LoadImageFromFileBitDepth`` applies (``visiondiv.datasets.transforms.decode_image``): the patches hold
  the values training would load from the whole image. 8-bit images are read as before.
- With ``--ann-dirs``, an image without a label file is skipped, as ``DOTADataset`` skips it (an image
  without objects needs an empty label file); their count and first names are printed. Boxes that cannot
  be pixels (labels normalised to 0-1) are warned about, naming the label files.

    python tools/data/dota/split.py --img-dirs data/DOTA/train/images --ann-dirs data/DOTA/train/labelTxt \
        --save-dir data/split_ss_dota/train [--sizes 1024 --gaps 200 --rates 1.0]
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Union

import cv2
import numpy as np

from visiondiv.datasets.dota import parse_dota_line
from visiondiv.datasets.transforms.loading import check_bit_depth, decode_image
from visiondiv.utils.validation import box_scale_warning
from visiondiv.datasets.patches import PATCH_PADDING_VALUE, crop_patch, sliding_windows  # noqa: F401 (API)

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


def polygon_window_iof(polys: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """(n, m): area of polygon i inside window j over the polygon's area (convex hull of the 4 points)."""
    out = np.zeros((len(polys), len(windows)), np.float32)
    for i, poly in enumerate(polys.reshape(-1, 4, 2).astype(np.float32)):
        hull = cv2.convexHull(poly)
        area = cv2.contourArea(hull)
        if area <= 0:
            continue
        for j, (x1, y1, x2, y2) in enumerate(windows):
            if poly[:, 0].max() <= x1 or poly[:, 0].min() >= x2 or poly[:, 1].max() <= y1 or poly[:, 1].min() >= y2:
                continue
            rect = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
            inter, _ = cv2.intersectConvexConvex(hull.reshape(-1, 2), rect)
            out[i, j] = max(inter, 0.0) / area
    return out


def read_dota_txt(path: Optional[str]) -> Dict[str, list]:
    """Raw DOTA labelTxt -> polys (n, 8), class names, difficulties (the dataset's own line parser)."""
    polys, labels, diffs = [], [], []
    if path is not None and osp.isfile(path):
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                inst = parse_dota_line(line, None, path, lineno)
                if inst is not None:
                    polys.append(inst['bbox'])
                    labels.append(inst['bbox_label'])
                    diffs.append(inst['difficulty'])
    return dict(polys=np.array(polys, np.float32).reshape(-1, 8), labels=labels, diffs=diffs)


def split_image(img_path: str, ann_path: Optional[str], save_dir: str, sizes: List[int], gaps: List[int],
                img_rate_thr: float = 0.6, iof_thr: float = 0.7, padding_value=PATCH_PADDING_VALUE,
                no_padding: bool = False, img_ext: str = '.png', bit_depth: Union[str, int] = 'auto') -> List[str]:
    """Write the patches (and their labelTxt) of one image; returns the patch ids.

    The image is read by ``decode_image`` with ``bit_depth``, the rule of training's loading transform.
    """
    with open(img_path, 'rb') as f:
        img = decode_image(f.read(), bit_depth=bit_depth, source=img_path)
    if img is None:
        raise IOError(f'cannot read image {img_path}')
    height, width = img.shape[:2]
    img_id = osp.splitext(osp.basename(img_path))[0]
    ann = read_dota_txt(ann_path)
    windows = sliding_windows(width, height, sizes, gaps, img_rate_thr)
    iofs = polygon_window_iof(ann['polys'], windows)
    os.makedirs(osp.join(save_dir, 'images'), exist_ok=True)
    os.makedirs(osp.join(save_dir, 'annfiles'), exist_ok=True)
    ids = []
    for j, (x1, y1, x2, y2) in enumerate(windows):
        patch_id = f'{img_id}__{x2 - x1}__{x1}___{y1}'
        patch = crop_patch(img, (x1, y1, x2, y2), None if no_padding else padding_value)
        cv2.imwrite(osp.join(save_dir, 'images', patch_id + img_ext), patch)
        with open(osp.join(save_dir, 'annfiles', patch_id + '.txt'), 'w') as f:
            for i in np.nonzero(iofs[:, j] >= iof_thr)[0]:
                poly = ann['polys'][i] - np.array([x1, y1] * 4, np.float32)
                diff = ann['diffs'][i] if iofs[i, j] >= 1 - 1e-6 else 2
                f.write(' '.join(f'{v:.1f}' for v in poly) + f' {ann["labels"][i]} {diff}\n')
        ids.append(patch_id)
    return ids


def _bit_depth(text: str) -> Union[str, int]:
    """``--bit-depth``: 'auto', 'refuse' or an integer from 8 to 16."""
    try:
        return check_bit_depth(text if text in ('auto', 'refuse') else int(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--img-dirs', nargs='+', required=True)
    parser.add_argument('--ann-dirs', nargs='+', default=None, help='labelTxt folders (omit for test images)')
    parser.add_argument('--save-dir', required=True)
    parser.add_argument('--sizes', type=int, nargs='+', default=[1024])
    parser.add_argument('--gaps', type=int, nargs='+', default=[200])
    parser.add_argument('--rates', type=float, nargs='+', default=[1.0])
    parser.add_argument('--img-rate-thr', type=float, default=0.6)
    parser.add_argument('--iof-thr', type=float, default=0.7)
    parser.add_argument('--no-padding', action='store_true')
    parser.add_argument('--padding-value', type=int, nargs='+', default=list(PATCH_PADDING_VALUE))
    parser.add_argument('--save-ext', default='.png', choices=IMG_EXTS)
    parser.add_argument('--bit-depth', type=_bit_depth, default='auto',
                        help="images of more than 8 bits per sample (16-bit PNG/TIFF): 'auto' scales by the data's "
                             "own bit depth (12-bit data: v >> 4), 8..16 by the given one, 'refuse' stops "
                             "(training's LoadImageFromFileBitDepth rule)")
    args = parser.parse_args(argv)
    if len(args.sizes) != len(args.gaps):
        parser.error('--sizes and --gaps need the same length')
    if args.ann_dirs is not None and len(args.ann_dirs) != len(args.img_dirs):
        parser.error('--ann-dirs must match --img-dirs one to one')
    if not 0 <= args.iof_thr <= 1:
        parser.error('--iof-thr must be in [0, 1]')
    sizes = [int(s / r) for r in args.rates for s in args.sizes]
    gaps = [int(g / r) for r in args.rates for g in args.gaps]
    padding = args.padding_value[0] if len(args.padding_value) == 1 else tuple(args.padding_value)
    ann_dirs = args.ann_dirs or [None] * len(args.img_dirs)
    jobs = []
    for img_dir, ann_dir in zip(args.img_dirs, ann_dirs):
        if not osp.isdir(img_dir):
            parser.error(f'image folder not found: {img_dir}')
        images = [name for name in sorted(os.listdir(img_dir)) if osp.splitext(name)[1].lower() in IMG_EXTS]
        unlabelled = []
        for name in images:
            ann_path = osp.join(ann_dir, osp.splitext(name)[0] + '.txt') if ann_dir else None
            if ann_path is not None and not osp.isfile(ann_path):
                unlabelled.append(name)     # DOTADataset's rule: skipped, not background
                continue
            jobs.append((osp.join(img_dir, name), ann_path))
        if unlabelled:
            more = f' and {len(unlabelled) - 5} more' if len(unlabelled) > 5 else ''
            print(f'warning: {img_dir}: {len(unlabelled)} of {len(images)} image(s) have no label file in {ann_dir} '
                  'and are skipped (give an image without objects an empty label file to split it as background): '
                  f'{", ".join(unlabelled[:5])}{more}', file=sys.stderr)
            if len(unlabelled) == len(images):
                parser.error(f'none of the {len(images)} images of {img_dir} has a label file in {ann_dir}')
    message = box_scale_warning([(ann, read_dota_txt(ann)['polys']) for _, ann in jobs if ann is not None],
                                f'--ann-dirs {" ".join(args.ann_dirs or [])}')
    if message is not None:
        print(f'warning: {message}', file=sys.stderr)
    total = 0
    for k, (img_path, ann_path) in enumerate(jobs, 1):
        total += len(split_image(img_path, ann_path, args.save_dir, sizes, gaps, args.img_rate_thr, args.iof_thr,
                                 padding, args.no_padding, args.save_ext, args.bit_depth))
        print(f'[{k}/{len(jobs)}] {osp.basename(img_path)}: {total} patches so far', file=sys.stderr)
    print(f'{total} patches written to {args.save_dir}')


if __name__ == '__main__':
    main()
