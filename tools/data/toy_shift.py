"""Generate a synthetic domain-shift segmentation set (deterministic), in NIfTI with spacing.

Each case is a 3-D phantom with two anatomical structures, drawn in two "modalities":

- class 1 ``organ``: an ellipsoid whose size, position and orientation vary;
- class 2 ``lesion``: a smaller ellipsoid inside the organ (absent in some cases).

``source`` renders background/organ/lesion as dark/mid/bright with mild noise; ``target`` uses
a different, compressed intensity mapping (brighter background, dimmer lesion), stronger noise,
a smooth multiplicative bias field and blur. ``--target inverted`` instead renders the target
with partial contrast inversion (the lesion darker than the organ, close to the background): a
harder shift on which a source model sees no lesion at all (see configs/sfda/README.md). Labels
come from the same geometry distribution in both domains, so only the appearance shifts.

Layout::

    OUT/{source,target}/{train,test}/{images,labels}/case_XXX.nii.gz

    python tools/data/toy_shift.py --out data/toy_shift [--cases 16 8 --shape 48 48 16 --seed 0]
"""
import argparse
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np
from scipy import ndimage

CLASSES = ('background', 'organ', 'lesion')
SPACING = (1.0, 1.0, 2.5)
#: bumped whenever the generated data change, so that an old copy is regenerated
VERSION = 3
# mean intensity of background, organ, lesion; noise std; bias-field strength; blur sigma (voxels)
DOMAINS = {
    'source': dict(levels=(0.15, 0.55, 0.90), noise=0.04, bias=0.0, blur=0.0),
    'target': dict(levels=(0.30, 0.55, 0.72), noise=0.08, bias=0.35, blur=0.8),
}
#: ``--target inverted``: the lesion's contrast to the organ is inverted
INVERTED_TARGET = dict(levels=(0.35, 0.75, 0.40), noise=0.08, bias=0.35, blur=0.8)


def _ellipsoid(shape, center, radii, angle, spacing) -> np.ndarray:
    zz, yy, xx = [np.arange(n) * s for n, s in zip(shape, spacing)]
    z, y, x = np.meshgrid(zz, yy, xx, indexing='ij')
    c, s = np.cos(angle), np.sin(angle)
    dz, dy, dx = z - center[0], y - center[1], x - center[2]
    u, v = c * dy + s * dx, -s * dy + c * dx
    return (u / radii[1]) ** 2 + (v / radii[2]) ** 2 + (dz / radii[0]) ** 2 <= 1


def make_label(rng: np.random.Generator, shape: Tuple[int, int, int]) -> np.ndarray:
    """A label volume (z, y, x) with an organ and, in most cases, a lesion inside it."""
    # physical extent per axis; the volume is stored as (z, y, x) with spacing (2.5, 1, 1) mm
    sp = (SPACING[2], SPACING[1], SPACING[0])
    ext = np.array(shape) * np.array(sp)
    center = ext / 2 + rng.uniform(-0.12, 0.12, 3) * ext
    radii = np.array([ext[0] * rng.uniform(0.25, 0.35), ext[1] * rng.uniform(0.2, 0.32),
                      ext[2] * rng.uniform(0.15, 0.26)])
    angle = rng.uniform(0, np.pi)
    label = _ellipsoid(shape, center, radii, angle, sp).astype(np.uint8)
    if rng.random() < 0.85:
        offset = rng.uniform(-0.25, 0.25, 3) * radii
        lesion = _ellipsoid(shape, center + offset, radii * rng.uniform(0.5, 0.7), rng.uniform(0, np.pi), sp)
        label[lesion & (label == 1)] = 2
    return label


def render(label: np.ndarray, domain: str, rng: np.random.Generator, params: Optional[dict] = None) -> np.ndarray:
    """Image of a label volume in one domain's appearance (``params`` overrides ``DOMAINS[domain]``)."""
    p = params or DOMAINS[domain]
    img = np.asarray(p['levels'], np.float32)[label]
    texture = ndimage.gaussian_filter(rng.normal(0, 1, label.shape), 1.5)
    img = img + 0.05 * texture / max(texture.std(), 1e-6)
    if p['bias']:
        field = ndimage.zoom(rng.normal(0, 1, (2, 3, 3)), np.array(label.shape) / (2, 3, 3), order=3)
        img = img * np.exp(p['bias'] * field / max(np.abs(field).max(), 1e-6))
    if p['blur']:
        img = ndimage.gaussian_filter(img, p['blur'])
    img = img + rng.normal(0, p['noise'], label.shape)
    return (1000 * img).astype(np.float32)      # MR-like arbitrary units


def save_nifti(path: str, vol_zyx: np.ndarray) -> None:
    from visiondiv.datasets import save_nifti as write
    write(path, np.transpose(vol_zyx, (2, 1, 0)), SPACING)      # NIfTI order (x, y, z)


def generate(out: str, num_train: int = 16, num_test: int = 8, shape=(16, 48, 48), seed: int = 0,
             target: str = 'default') -> None:
    """Write both domains under ``out``; the same arguments give the same files.

    ``target``: ``default`` or ``inverted`` (the lesion darker than the organ in the target domain).
    """
    if target not in ('default', 'inverted'):
        raise ValueError(f"target must be 'default' or 'inverted', got {target!r}")
    for d_idx, domain in enumerate(DOMAINS):
        params = INVERTED_TARGET if domain == 'target' and target == 'inverted' else None
        for split, count in (('train', num_train), ('test', num_test)):
            rng = np.random.default_rng([seed, d_idx, 0 if split == 'train' else 1])
            for sub in ('images', 'labels'):
                os.makedirs(osp.join(out, domain, split, sub), exist_ok=True)
            for i in range(count):
                label = make_label(rng, shape)
                name = f'case_{i:03d}.nii.gz'
                save_nifti(osp.join(out, domain, split, 'images', name), render(label, domain, rng, params))
                save_nifti(osp.join(out, domain, split, 'labels', name), label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy_shift')
    parser.add_argument('--cases', type=int, nargs=2, default=[16, 8], metavar=('TRAIN', 'TEST'))
    parser.add_argument('--shape', type=int, nargs=3, default=[48, 48, 16], metavar=('X', 'Y', 'Z'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--target', choices=('default', 'inverted'), default='default',
                        help='target appearance; inverted = partial contrast inversion of the lesion')
    args = parser.parse_args()
    shape = 'x'.join(map(str, args.shape))
    marker = osp.join(args.out, f'.generated-v{VERSION}-{args.cases[0]}-{args.cases[1]}-{shape}'
                      f'-{args.seed}-{args.target}')
    if osp.exists(marker):
        print(f'toy shift dataset already at {args.out}')
        return
    x, y, z = args.shape
    generate(args.out, args.cases[0], args.cases[1], (z, y, x), args.seed, args.target)
    open(marker, 'w').close()
    print(f'toy shift dataset written to {args.out}')


if __name__ == '__main__':
    main()
