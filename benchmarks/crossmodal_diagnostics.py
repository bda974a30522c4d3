"""Why an arm of the CT -> MR study scores what it does: tissue intensities of the pseudo-MR and the errors
of each segmenter on the MR test set. Run after ``benchmarks/crossmodal_study.py`` (it reads its work dir).

1. Mean ± std intensity of each tissue, every volume percentile-normalised as the segmenters read it: the
   real MR test volumes against each translator's pseudo-MR of the labelled CT. The tissue maps come from
   ``tools/data/toy_ct_mr.py`` (same seed and streams): a pericardial fat pad is fat more than 5 voxels
   inside the body outline, the fat rim the rest of the fat.
2. Each segmenter on the MR test set: Dice per volume (volumes whose tumour touches the heart or a fat pad
   marked *), and its false-positive voxels on the fat pads and elsewhere.

    python benchmarks/crossmodal_diagnostics.py --seeds 0 1 2
"""
import argparse
import functools
import glob
import importlib.util
import os.path as osp
import sys
from typing import Dict, List

import numpy as np
from scipy import ndimage

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
DATA = osp.join(ROOT, 'data/toy_ct_mr')
SEG = 'configs/crossmodal/unet_{}_400it_toy-ct-mr.py'
#: segmenter arm -> its folder name in the study's work dir (see crossmodal_study.seg_dir)
ARMS = ('mr-only', 'mr+pseudo-mr-cyclegan', 'mr+pseudo-mr-tumour-aware')
TRANSLATORS = ('cyclegan', 'tumour_aware')
REGIONS = ('tumour', 'fat pad', 'fat rim', 'heart', 'muscle')


@functools.lru_cache(maxsize=1)
def toy_generator():
    """tools/data/toy_ct_mr.py as a module, loaded once (by path: ``tests`` is also the name of a package that
    the mmsegmentation wheel installs, so the repository's tests are not imported from here)."""
    spec = importlib.util.spec_from_file_location('toy_ct_mr', osp.join(ROOT, 'tools', 'data', 'toy_ct_mr.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tissue_maps(split: str, count: int) -> List[np.ndarray]:
    """The tissue-index volumes (x, y, z, as the NIfTI files) of one set of the default toy data."""
    toy = toy_generator()
    modality = split.split('/')[0]
    return [np.transpose(t, (2, 1, 0)) for t, _ in toy.subjects(modality, count, stream=toy.STREAMS[split])]


def regions(tissue: np.ndarray) -> Dict[str, np.ndarray]:
    toy = toy_generator()
    index = {name: i for i, name in enumerate(toy.TISSUES)}
    fat = tissue == index['fat']
    depth = np.stack([ndimage.distance_transform_edt(tissue[:, :, k] != index['air'])
                      for k in range(tissue.shape[2])], axis=2)
    return {'tumour': tissue == index['tumour'], 'fat pad': fat & (depth > 5), 'fat rim': fat & (depth <= 5),
            'heart': tissue == index['heart'], 'muscle': tissue == index['muscle']}


def intensities(img_dir: str, tissues: List[np.ndarray]) -> Dict[str, str]:
    from visiondiv.datasets import load_nifti, normalize_volume
    paths = sorted(glob.glob(osp.join(img_dir, '*.nii.gz')))
    if len(paths) != len(tissues):
        raise FileNotFoundError(f'{img_dir}: {len(paths)} volumes, expected {len(tissues)} (run the study first)')
    values: Dict[str, list] = {r: [] for r in REGIONS}
    for path, tissue in zip(paths, tissues):
        vol = normalize_volume(load_nifti(path)[0], 'percentile')
        for name, mask in regions(tissue).items():
            values[name].append(vol[mask])
    return {r: f'{np.concatenate(v).mean():.2f} ± {np.concatenate(v).std():.2f}' for r, v in values.items()}


def segmenter_errors(arm: str, checkpoint: str, test: list, pads: List[np.ndarray]) -> Dict[str, object]:
    import torch

    from visiondiv.models.segmentors import PretrainedSegmentor
    seg = PretrainedSegmentor(SEG.format(arm), checkpoint)   # the trained segmenter, frozen, in eval mode
    fp_pad = fp_other = 0
    dice = []
    for (vol, label), pad in zip(test, pads):
        x = torch.from_numpy(np.ascontiguousarray(vol.transpose(2, 0, 1)[:, None])).float() * 2 - 1
        with torch.no_grad():
            pred = (seg(x)[:, 0] > 0).numpy().transpose(1, 2, 0)    # p(tumour) > 0.5
        fp_pad += int((pred & ~label & pad).sum())
        fp_other += int((pred & ~label & ~pad).sum())
        dice.append(2 * (pred & label).sum() / max(pred.sum() + label.sum(), 1))
    return dict(dice=dice, fp_pad=fp_pad, fp_other=fp_other)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/crossmodal_study')
    args = parser.parse_args()
    from mmengine.registry import init_default_scope

    from visiondiv.datasets import load_nifti, normalize_volume
    init_default_scope('visiondiv')
    work = osp.join(ROOT, args.work_dir)
    test_paths = sorted(glob.glob(osp.join(DATA, 'mr/test/images/*.nii.gz')))
    mr_test_tissue = tissue_maps('mr/test', len(test_paths))
    ct_tissue = tissue_maps('ct/train', len(glob.glob(osp.join(DATA, 'ct/train/images/*.nii.gz'))))

    print('| images | ' + ' | '.join(REGIONS) + ' |\n|---|' + '---|' * len(REGIONS))
    rows = [('real MR (test)', osp.join(DATA, 'mr/test/images'), mr_test_tissue)]
    rows += [(f'pseudo-MR, {t}, seed {s}', osp.join(work, f'pseudo_{t}_seed{s}', 'images'), ct_tissue)
             for s in args.seeds for t in TRANSLATORS]
    for name, img_dir, tissues in rows:
        print(f'| {name} | ' + ' | '.join(intensities(img_dir, tissues).values()) + ' |')

    test = [(normalize_volume(load_nifti(p)[0], 'percentile'), load_nifti(p.replace('/images/', '/labels/'))[0] > 0)
            for p in test_paths]
    test_regions = [regions(t) for t in mr_test_tissue]
    pads = [r['fat pad'] for r in test_regions]
    hard = []
    for r in test_regions:
        ring = ndimage.binary_dilation(r['tumour'], structure=np.ones((3, 3, 1))) & ~r['tumour']
        hard.append(bool(r['heart'][ring].any() or r['fat pad'][ring].any()))
    print('\n| segmenter | seed | Dice | false-positive voxels on fat pads / elsewhere | Dice per test volume, '
          'mr_000 to mr_011 (* touches the heart or a fat pad) |\n|---|---|---|---|---|')
    for arm in ARMS:
        for s in args.seeds:
            ckpt = osp.join(work, f"unet_{arm.replace('+', 'plus_')}_seed{s}", 'iter_400.pth')
            err = segmenter_errors(arm, ckpt, test, pads)
            per = ' '.join(f"{d:.2f}{'*' if h else ''}" for d, h in zip(err['dice'], hard))
            print(f"| {arm} | {s} | {np.mean(err['dice']):.3f} | {err['fp_pad']} / {err['fp_other']} | {per} |")


if __name__ == '__main__':
    main()
