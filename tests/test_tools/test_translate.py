import os

import nibabel as nib
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.script_loader import load_script
from visiondiv.apis.translation import translate_slices
from visiondiv.models.editors.cyclegan import ResnetGenerator

GEN = dict(type='ResnetGenerator', in_channels=1, out_channels=1, base_channels=4, num_blocks=1)
#: a rotated, shifted affine with 2 x 2 x 4 mm voxels: kept as it is, not rebuilt from the spacing
AFFINE = np.array([[0.0, -2.0, 0.0, 10.0], [2.0, 0.0, 0.0, -5.0], [0.0, 0.0, 4.0, 30.0], [0, 0, 0, 1]])


def load():
    return load_script('tools', 'data', 'medical', 'translate.py')


def make_checkpoint(path, final_bias=None):
    """A translator checkpoint of tiny generators; ``final_bias`` zeroes the last convolution's weights so that
    every output voxel is tanh(final_bias)."""
    torch.manual_seed(0)
    gens = {d: ResnetGenerator(**{k: v for k, v in GEN.items() if k != 'type'}) for d in ('mr', 'ct')}
    if final_bias is not None:
        last = gens['mr'].model[-1].conv
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.constant_(last.bias, final_bias)
    state = {f'generators.{d}.{k}': v for d, g in gens.items() for k, v in g.state_dict().items()}
    cfg = Config(dict(model=dict(type='CycleGAN', domains=('ct', 'mr'), generator=GEN)))
    torch.save({'meta': {'cfg': cfg.pretty_text}, 'state_dict': state}, str(path))
    return gens['mr'].eval()


def make_ct(root, n=2, shape=(8, 12, 5)):
    """CT volumes stored as int16 with a scaling (as scanners write them) and tumour labels."""
    rng = np.random.default_rng(0)
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    cts = []
    for i in range(n):
        ct = rng.uniform(-1200, 800, shape)
        img = nib.Nifti1Image(ct, AFFINE)
        img.set_data_dtype(np.int16)                           # nibabel stores it with a slope / intercept
        nib.save(img, str(root / 'images' / f'ct_{i}.nii.gz'))
        lab = np.zeros(shape, np.uint8)
        lab[2:5, 3:7, 1:3 + i] = 1
        nib.save(nib.Nifti1Image(lab, AFFINE), str(root / 'labels' / f'ct_{i}.nii.gz'))
        cts.append(np.asanyarray(nib.load(str(root / 'images' / f'ct_{i}.nii.gz')).dataobj).astype(np.float64))
    return cts


def test_translates_keeps_geometry_and_copies_labels(tmp_path):
    gen = make_checkpoint(tmp_path / 'ckpt.pth')
    cts = make_ct(tmp_path / 'ct')
    out, out_labels = tmp_path / 'pseudo' / 'images', tmp_path / 'pseudo' / 'labels'
    load().main([str(tmp_path / 'ckpt.pth'), '--ct-dir', str(tmp_path / 'ct' / 'images'), '--out', str(out),
                 '--labels', str(tmp_path / 'ct' / 'labels'), '--out-labels', str(out_labels), '--batch-size', '2'])
    assert sorted(os.listdir(out)) == sorted(os.listdir(out_labels)) == ['ct_0.nii.gz', 'ct_1.nii.gz']
    assert sorted(os.listdir(tmp_path / 'pseudo')) == ['images', 'labels']           # no temporary folder left
    for i, ct in enumerate(cts):
        img = nib.load(str(out / f'ct_{i}.nii.gz'))
        np.testing.assert_allclose(img.affine, AFFINE)
        assert img.header.get_zooms() == (2.0, 2.0, 4.0) and img.get_data_dtype() == np.float32
        got = np.asanyarray(img.dataobj)
        assert got.shape == ct.shape
        # reference: window in float64, the generator run directly slice by slice (8 x 12: no padding needed)
        x = (np.clip(ct, -1000, 400) + 1000) / 1400
        with torch.no_grad():
            y = gen(torch.from_numpy(np.moveaxis(x, 2, 0)[:, None] * 2 - 1).float())[:, 0].double().numpy()
        np.testing.assert_allclose(got, np.moveaxis((y + 1) / 2, 0, 2) * 1000, atol=1e-2)   # float32 noise
        src, dst = tmp_path / 'ct' / 'labels' / f'ct_{i}.nii.gz', out_labels / f'ct_{i}.nii.gz'
        assert src.read_bytes() == dst.read_bytes()


def test_constant_generator_closed_form_and_slice_axis(tmp_path):
    make_checkpoint(tmp_path / 'ckpt.pth', final_bias=0.3)
    make_ct(tmp_path / 'ct', n=1, shape=(6, 5, 7))
    load().main([str(tmp_path / 'ckpt.pth'), '--ct-dir', str(tmp_path / 'ct' / 'images'), '--out',
                 str(tmp_path / 'out'), '--slice-axis', '0', '--scale', '500'])
    got = np.asanyarray(nib.load(str(tmp_path / 'out' / 'ct_0.nii.gz')).dataobj)
    assert got.shape == (6, 5, 7)
    np.testing.assert_allclose(got, (np.tanh(0.3) + 1) / 2 * 500, rtol=1e-6)


def test_slice_axis_matches_translate_slices(tmp_path):
    gen = make_checkpoint(tmp_path / 'ckpt.pth')
    (ct,) = make_ct(tmp_path / 'ct', n=1, shape=(6, 5, 7))
    load().main([str(tmp_path / 'ckpt.pth'), '--ct-dir', str(tmp_path / 'ct' / 'images'), '--out',
                 str(tmp_path / 'out'), '--slice-axis', '0', '--window', '-500', '300'])
    got = np.asanyarray(nib.load(str(tmp_path / 'out' / 'ct_0.nii.gz')).dataobj)
    ref = translate_slices(gen, (np.clip(ct, -500, 300) + 500) / 800)         # slices along axis 0 are 5 x 7
    np.testing.assert_allclose(got, ref * 1000, atol=1e-2)   # float32 noise


def test_refusals_name_the_path(tmp_path):
    make_checkpoint(tmp_path / 'ckpt.pth')
    make_ct(tmp_path / 'ct', n=2)
    ct_dir, ckpt = str(tmp_path / 'ct' / 'images'), str(tmp_path / 'ckpt.pth')
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='full exists and is not an empty folder'):
        load().main([ckpt, '--ct-dir', ct_dir, '--out', str(tmp_path / 'full')])
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        load().main([str(tmp_path / 'nothere.pth'), '--ct-dir', ct_dir, '--out', str(tmp_path / 'o1')])
    with pytest.raises(FileNotFoundError, match=r"no '\*\.nii\.gz' volumes in .*empty"):
        (tmp_path / 'empty').mkdir()
        load().main([ckpt, '--ct-dir', str(tmp_path / 'empty'), '--out', str(tmp_path / 'o1')])
    with pytest.raises(ValueError, match='--labels and --out-labels go together'):
        load().main([ckpt, '--ct-dir', ct_dir, '--out', str(tmp_path / 'o1'), '--labels', str(tmp_path / 'ct')])
    with pytest.raises(ValueError, match='neither inside the other'):
        load().main([ckpt, '--ct-dir', ct_dir, '--out', str(tmp_path / 'o1'), '--labels',
                     str(tmp_path / 'ct' / 'labels'), '--out-labels', str(tmp_path / 'o1' / 'labels')])
    # a label of another shape (second volume): error naming it, and nothing written
    nib.save(nib.Nifti1Image(np.zeros((8, 12, 4), np.uint8), AFFINE), str(tmp_path / 'ct' / 'labels' / 'ct_1.nii.gz'))
    with pytest.raises(ValueError, match=r'labels/ct_1\.nii\.gz: label shape \(8, 12, 4\) differs from image'):
        load().main([ckpt, '--ct-dir', ct_dir, '--out', str(tmp_path / 'o2' / 'img'), '--labels',
                     str(tmp_path / 'ct' / 'labels'), '--out-labels', str(tmp_path / 'o2' / 'lab')])
    assert not (tmp_path / 'o2').exists()
    bad = np.zeros((8, 12, 5), np.float32)
    bad[1, 1, 1] = np.nan
    nib.save(nib.Nifti1Image(bad, AFFINE), str(tmp_path / 'ct' / 'images' / 'ct_1.nii.gz'))
    with pytest.raises(ValueError, match=r'images/ct_1\.nii\.gz: 1 of 480 voxels are not finite'):
        load().main([ckpt, '--ct-dir', ct_dir, '--out', str(tmp_path / 'o3')])
    assert not (tmp_path / 'o3').exists() and sorted(os.listdir(tmp_path)) == ['ckpt.pth', 'ct', 'empty', 'full']
