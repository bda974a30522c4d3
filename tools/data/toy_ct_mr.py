"""Generate unpaired synthetic thorax phantoms with lung tumours, in CT and T2w-MR contrast (deterministic).

Each case is a 3-D phantom of one subject: body (muscle), a subcutaneous fat rim, two lungs with
small vessels, a mediastinum (heart), a vertebra (cortical bone around marrow) and one tumour in a
lung (class 1), and pericardial fat pads: tumour-sized blobs on the heart border. CT and MR cases
are drawn from **different subjects** (separate random streams), so the two modalities are
unpaired, as in the paper (TCIA CT vs the hospital's MR).

- **CT**: Hounsfield-like values (air -1000, lung -850, fat -100, muscle 45, heart 40, tumour 35,
  vessel 40, marrow 300, cortical bone 900), Gaussian noise of 15 HU. The tumour has the HU of soft
  tissue: it is visible against the lung, not against the vessels or the mediastinum.
- **T2w MR**: a different tissue ordering (air 0, lung 30, cortical bone 40, vessel flow-void 60,
  muscle 280, heart 330, marrow 450, tumour 680 (heterogeneous), fat 740: fat and tumour bright and close,
  so a fat pad looks like a tumour; bone dark), a smooth
  multiplicative bias field and Rician noise (magnitude of a complex Gaussian), as a magnitude
  image would have.

Layout (NIfTI, spacing 2 x 2 x 4 mm, x/y/z order)::

    OUT/ct/train/{images,labels}/ct_XXX.nii.gz          many labelled CT volumes (--ct)
    OUT/mr/train/{images,labels}/mr_XXX.nii.gz          at most 6 labelled MR volumes (--mr-labelled)
    OUT/mr/unlabelled/images/mr_XXX.nii.gz              unlabelled MR for the translator (--mr-unlabelled)
    OUT/mr/test/{images,labels}/mr_XXX.nii.gz           a separate MR test set (--mr-test)

    python tools/data/toy_ct_mr.py --out data/toy_ct_mr [--ct 40 --mr-labelled 6 --mr-unlabelled 18
                                   --mr-test 12 --shape 64 64 12 --seed 0]
"""
import argparse
import os
import os.path as osp
from typing import Dict, Iterator, Tuple

import numpy as np
from scipy import ndimage

CLASSES = ('background', 'tumour')
SPACING = (2.0, 2.0, 4.0)        # mm, (x, y, z)
#: bumped whenever the generated data change, so that an old copy is regenerated
VERSION = 2
#: the most labelled MR volumes the study may train on (the paper had 6)
MAX_MR_LABELLED = 6
TISSUES = ('air', 'lung', 'fat', 'muscle', 'heart', 'tumour', 'vessel', 'marrow', 'bone')
#: mean value of every tissue in each modality (CT in HU, MR in arbitrary units)
LEVELS: Dict[str, Dict[str, float]] = {
    'ct': dict(air=-1000, lung=-850, fat=-100, muscle=45, heart=40, tumour=35, vessel=40, marrow=300, bone=900),
    'mr': dict(air=0, lung=30, fat=740, muscle=280, heart=330, tumour=680, vessel=60, marrow=450, bone=40),
}
CT_NOISE_HU = 15.0
MR_NOISE = 25.0           # std of each of the two Gaussian channels of the Rician noise
MR_BIAS = 0.3             # peak log-amplitude of the multiplicative bias field


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float, rx: float,
             angle: float = 0.0) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = yy - cy, xx - cx
    u, v = c * dy + s * dx, -s * dy + c * dx
    return (u / ry) ** 2 + (v / rx) ** 2 <= 1


def make_phantom(rng: np.random.Generator, shape: Tuple[int, int, int]) -> np.ndarray:
    """Tissue-index volume (z, y, x), indices into ``TISSUES``; one subject's anatomy."""
    nz, ny, nx = shape
    t = {name: i for i, name in enumerate(TISSUES)}
    yy, xx = np.meshgrid(np.arange(ny, dtype=np.float64), np.arange(nx, dtype=np.float64), indexing='ij')
    vol = np.zeros(shape, np.uint8)
    # subject-level anatomy, slowly varying along z
    body_ry, body_rx = ny * rng.uniform(0.30, 0.36), nx * rng.uniform(0.40, 0.46)
    cy, cx = ny / 2 + rng.uniform(-2, 2), nx / 2 + rng.uniform(-2, 2)
    fat = rng.uniform(2.0, 4.0)
    lung_ry, lung_rx = body_ry * rng.uniform(0.62, 0.75), body_rx * rng.uniform(0.30, 0.36)
    lung_dx = body_rx * rng.uniform(0.40, 0.48)
    heart_r = min(body_ry, body_rx) * rng.uniform(0.28, 0.36)
    vessels = [(rng.choice([-1, 1]), rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(0.8, 1.4))
               for _ in range(rng.integers(4, 8))]
    # pericardial fat pads: tumour-sized blobs on the heart border that bulge into a lung; bright in T2w MR
    # like the tumour (the confounder an MR-only segmenter must learn to reject), distinct in CT (-100 HU)
    pads = [(rng.uniform(0, 2 * np.pi), rng.uniform(2.5, 6.0), rng.uniform(0.6, 1.0), rng.uniform(0.2, 0.8) * nz,
             rng.uniform(1.5, 3.0)) for _ in range(rng.integers(1, 4))]
    # the tumour: an ellipsoid in one lung, 6-16 mm radius in-plane
    side = rng.choice([-1, 1])
    t_cz = rng.uniform(0.3, 0.7) * nz
    t_cy = cy + rng.uniform(-0.45, 0.45) * lung_ry
    t_cx = cx + side * lung_dx + rng.uniform(-0.4, 0.4) * lung_rx
    t_r = rng.uniform(3.0, 8.0) / 1.0            # voxels (2 mm), in-plane
    t_rz = rng.uniform(1.5, 3.0)                  # slices (4 mm)
    t_ratio, t_angle = rng.uniform(0.7, 1.0), rng.uniform(0, np.pi)
    for z in range(nz):
        zf = (z - nz / 2) / nz
        scale = 1 - 0.25 * zf ** 2                # the thorax narrows towards the ends
        body = _ellipse(yy, xx, cy, cx, body_ry * scale, body_rx * scale)
        inner = _ellipse(yy, xx, cy, cx, body_ry * scale - fat, body_rx * scale - fat)
        sl = np.zeros((ny, nx), np.uint8)
        sl[body] = t['fat']
        sl[inner] = t['muscle']
        for sgn in (-1, 1):
            lung = _ellipse(yy, xx, cy - 0.1 * lung_ry, cx + sgn * lung_dx, lung_ry * scale, lung_rx * scale)
            sl[lung & inner] = t['lung']
            for vs, vy, vx, vr in vessels:
                if vs == sgn:
                    vessel = _ellipse(yy, xx, cy - 0.1 * lung_ry + vy * lung_ry * scale,
                                      cx + sgn * lung_dx + vx * lung_rx * scale, vr, vr)
                    sl[vessel & (sl == t['lung'])] = t['vessel']
        hy, hx = cy - 0.05 * body_ry, cx + 0.1 * body_rx
        heart = _ellipse(yy, xx, hy, hx, heart_r * scale, heart_r * 1.2 * scale)
        sl[heart & inner] = t['heart']
        for p_angle, p_r, p_ratio, p_cz, p_rz in pads:
            dz = (z - p_cz) / p_rz
            if abs(dz) < 1:
                r = p_r * np.sqrt(1 - dz ** 2)
                py = hy + np.sin(p_angle) * heart_r * scale
                px = hx + np.cos(p_angle) * heart_r * 1.2 * scale
                sl[_ellipse(yy, xx, py, px, r, r * p_ratio, p_angle) & inner] = t['fat']
        spine_cy = cy + body_ry * scale * 0.72
        sl[_ellipse(yy, xx, spine_cy, cx, 4.5, 4.5)] = t['bone']
        sl[_ellipse(yy, xx, spine_cy, cx, 3.0, 3.0)] = t['marrow']
        dz = (z - t_cz) / t_rz
        if abs(dz) < 1:
            r = t_r * np.sqrt(1 - dz ** 2)
            tumour = _ellipse(yy, xx, t_cy, t_cx, r, r * t_ratio, t_angle)
            sl[tumour & inner & (sl != t['bone']) & (sl != t['marrow'])] = t['tumour']
        vol[z] = sl
    return vol


def render(tissue: np.ndarray, modality: str, rng: np.random.Generator) -> np.ndarray:
    """Image of a tissue-index volume in ``ct`` (HU) or ``mr`` (T2w-like) contrast, float32."""
    levels = np.array([LEVELS[modality][name] for name in TISSUES], np.float64)
    img = levels[tissue]
    texture = ndimage.gaussian_filter(rng.normal(0, 1, tissue.shape), (0.5, 1.2, 1.2))
    texture /= max(texture.std(), 1e-6)
    tumour = tissue == TISSUES.index('tumour')
    if modality == 'ct':
        img = img + 10.0 * texture * (tissue != TISSUES.index('air'))
        img = ndimage.gaussian_filter(img, (0.0, 0.6, 0.6)) + rng.normal(0, CT_NOISE_HU, tissue.shape)
        return img.astype(np.float32)
    img = img + 30.0 * texture * (tissue != TISSUES.index('air')) + 40.0 * texture * tumour   # heterogeneous tumour
    field = ndimage.zoom(rng.normal(0, 1, (2, 3, 3)), np.array(tissue.shape) / (2, 3, 3), order=3)
    img = img * np.exp(MR_BIAS * field / max(np.abs(field).max(), 1e-6))
    img = ndimage.gaussian_filter(img, (0.0, 0.7, 0.7))
    real = img + rng.normal(0, MR_NOISE, tissue.shape)
    imag = rng.normal(0, MR_NOISE, tissue.shape)
    return np.sqrt(real ** 2 + imag ** 2).astype(np.float32)      # Rician magnitude


def save_nifti(path: str, vol_zyx: np.ndarray) -> None:
    from visiondiv.datasets import save_nifti as write
    write(path, np.transpose(vol_zyx, (2, 1, 0)), SPACING)      # NIfTI order (x, y, z)


def generate(out: str, num_ct: int = 40, num_mr_labelled: int = 6, num_mr_unlabelled: int = 18,
             num_mr_test: int = 12, shape: Tuple[int, int, int] = (12, 64, 64), seed: int = 0) -> None:
    """Write the CT and MR sets under ``out``; the same arguments give the same files.

    Every set draws its subjects from its own random stream, so no MR volume shares a subject with a
    CT volume (unpaired), and the MR test subjects differ from the training ones.
    """
    if not 1 <= num_mr_labelled <= MAX_MR_LABELLED:
        raise ValueError(f'--mr-labelled must be in [1, {MAX_MR_LABELLED}], got {num_mr_labelled}')
    sets = (('ct', 'train', 'ct', num_ct, True), ('mr', 'train', 'mr', num_mr_labelled, True),
            ('mr', 'unlabelled', 'mr', num_mr_unlabelled, False), ('mr', 'test', 'mr', num_mr_test, True))
    for stream, (modality, split, prefix, count, labelled) in enumerate(sets):
        subs = ('images', 'labels') if labelled else ('images',)
        for sub in subs:
            os.makedirs(osp.join(out, modality, split, sub), exist_ok=True)
        for i, (tissue, image) in enumerate(subjects(modality, count, shape, seed, stream)):
            name = f'{prefix}_{i:03d}.nii.gz'
            save_nifti(osp.join(out, modality, split, 'images', name), image)
            if labelled:
                label = (tissue == TISSUES.index('tumour')).astype(np.uint8)
                save_nifti(osp.join(out, modality, split, 'labels', name), label)


#: the random stream of each set in :func:`generate` (its position in ``sets``)
STREAMS = {'ct/train': 0, 'mr/train': 1, 'mr/unlabelled': 2, 'mr/test': 3}


def subjects(modality: str, count: int, shape: Tuple[int, int, int] = (12, 64, 64), seed: int = 0,
             stream: int = 0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """(tissue-index volume, image) of each subject of one set, (z, y, x), as :func:`generate` writes them
    (stream: :data:`STREAMS`); the tissue maps let diagnostics measure every tissue, not only the tumour."""
    rng = np.random.default_rng([seed, stream])
    for _ in range(count):
        tissue = make_phantom(rng, shape)
        yield tissue, render(tissue, modality, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy_ct_mr')
    parser.add_argument('--ct', type=int, default=40, help='labelled CT volumes')
    parser.add_argument('--mr-labelled', type=int, default=6, help=f'labelled MR volumes (<= {MAX_MR_LABELLED})')
    parser.add_argument('--mr-unlabelled', type=int, default=18, help='unlabelled MR volumes (translator only)')
    parser.add_argument('--mr-test', type=int, default=12, help='labelled MR test volumes')
    parser.add_argument('--shape', type=int, nargs=3, default=[64, 64, 12], metavar=('X', 'Y', 'Z'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    shape = 'x'.join(map(str, args.shape))
    marker = osp.join(args.out, f'.generated-v{VERSION}-{args.ct}-{args.mr_labelled}-{args.mr_unlabelled}'
                      f'-{args.mr_test}-{shape}-{args.seed}')
    if osp.exists(marker):
        print(f'toy CT/MR dataset already at {args.out}')
        return
    x, y, z = args.shape
    generate(args.out, args.ct, args.mr_labelled, args.mr_unlabelled, args.mr_test, (z, y, x), args.seed)
    open(marker, 'w').close()
    print(f'toy CT/MR dataset written to {args.out}')


if __name__ == '__main__':
    main()
