import os
import shutil

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.data import get_testdata_file

from tests.dicom_fixtures import write_ct_series, write_rtstruct, write_seg
from visiondiv.datasets import (load_nifti, read_dicom_seg, read_dicom_series, read_image, read_rtstruct,
                                save_nifti)

SPACING, ORIGIN = (0.7, 0.8, 2.5), (-10.0, -20.0, 30.0)
SHAPE = (10, 8, 4)                                   # (x, y, z)


def hu_volume(seed=0, shape=SHAPE, step=1):
    return np.random.default_rng(seed).integers(-1000, 1000, shape) // step * step


def physical(index, flip_y=False):
    """Patient mm of continuous voxel indices (N, 3), written out for the fixture's axis-aligned geometry."""
    sign = np.array([1.0, -1.0, -1.0]) if flip_y else np.ones(3)
    return np.asarray(ORIGIN) + sign * np.asarray(SPACING) * np.asarray(index, float)


def square(x0, x1, y0, y1, z, flip_y=False):
    """Contour around voxels x0..x1, y0..y1 of slice z: corners half a voxel outside their centres."""
    corners = [(x0 - .5, y0 - .5, z), (x1 + .5, y0 - .5, z), (x1 + .5, y1 + .5, z), (x0 - .5, y1 + .5, z)]
    return physical(corners, flip_y)


def test_read_image_formats_axis_order_and_spacing(tmp_path):
    vol = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)         # (x, y, z)
    image = sitk.GetImageFromArray(vol.transpose(2, 1, 0))                 # SimpleITK arrays are (z, y, x)
    image.SetSpacing((0.5, 0.6, 3.0))
    for name in ('a.mhd', 'a.mha', 'a.nrrd', 'a.nii.gz', 'z.mha'):
        sitk.WriteImage(image, str(tmp_path / name), useCompression=name.startswith('z'))
        got, spacing = read_image(str(tmp_path / name))
        np.testing.assert_array_equal(got, vol)
        assert spacing == pytest.approx((0.5, 0.6, 3.0))
    save_nifti(str(tmp_path / 'nib.nii.gz'), vol.astype(np.float32), (1.5, 2.0, 4.0))     # nibabel writes it
    got, spacing = read_image(str(tmp_path / 'nib.nii.gz'))
    np.testing.assert_array_equal(got, load_nifti(str(tmp_path / 'nib.nii.gz'))[0])
    assert spacing == (1.5, 2.0, 4.0)


def test_read_image_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mhd'):
        read_image(str(tmp_path / 'missing.mhd'))
    (tmp_path / 'c.mhd').write_text('NDims = 3\nDimSize = 2 3 4\nElementDataFile = c.raw\n')
    with pytest.raises(ValueError, match=r'c\.mhd: SimpleITK cannot read it'):
        read_image(str(tmp_path / 'c.mhd'))
    sitk.WriteImage(sitk.Image(4, 5, sitk.sitkUInt8), str(tmp_path / 'flat.nrrd'))
    with pytest.raises(ValueError, match=r'flat\.nrrd: expected a 3-D scalar image, got 2-D'):
        read_image(str(tmp_path / 'flat.nrrd'))


@pytest.mark.parametrize('slope,intercept,step', [(1.0, -1024.0, 1), (2.0, -1000.0, 2)])
def test_dicom_series_hu_spacing_and_geometry(tmp_path, slope, intercept, step):
    hu = hu_volume(step=step)
    write_ct_series(str(tmp_path / 'ct'), hu, SPACING, ORIGIN, slope=slope, intercept=intercept)
    vol, spacing, info = read_dicom_series(str(tmp_path / 'ct'))
    np.testing.assert_array_equal(vol, hu)
    assert spacing == pytest.approx(SPACING) and info.shape == SHAPE
    np.testing.assert_allclose(info.slice_positions, physical([(0, 0, k) for k in range(4)]), atol=1e-4)
    assert info.sop_instance_uids == tuple(f'1.2.826.0.1.3680043.8.498.10.{k}' for k in range(1, 5))
    # the stored values are not HU: SimpleITK applied RescaleSlope / RescaleIntercept (checked with pydicom)
    ds = pydicom.dcmread(info.files[2])
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (slope, intercept)
    np.testing.assert_array_equal(ds.pixel_array.T * slope + intercept, hu[:, :, 2])
    assert not np.array_equal(ds.pixel_array.T, hu[:, :, 2])
    np.testing.assert_allclose(info.to_index(physical([(3, 2, 1), (0.5, 7, 3)])), [(3, 2, 1), (0.5, 7, 3)])


def test_pydicom_ct_small(tmp_path):
    (tmp_path / 'ct').mkdir()
    shutil.copy(get_testdata_file('CT_small.dcm'), tmp_path / 'ct')
    vol, spacing, info = read_dicom_series(str(tmp_path / 'ct'))
    ds = pydicom.dcmread(get_testdata_file('CT_small.dcm'))
    assert vol.shape == (128, 128, 1) and spacing[:2] == pytest.approx((0.661468, 0.661468))
    np.testing.assert_array_equal(vol[:, :, 0], ds.pixel_array.T.astype(np.int32) - 1024)
    assert info.origin == pytest.approx((-158.135803, -179.035797, -75.699997))


def test_dicom_series_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        read_dicom_series(str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=r'empty: no DICOM series; series IDs found: \[\]'):
        read_dicom_series(str(tmp_path / 'empty'))
    folder = str(tmp_path / 'two')
    write_ct_series(folder, hu_volume(1), series_uid='1.2.3.100')
    write_ct_series(os.path.join(folder, 'b'), hu_volume(2, (10, 8, 2)), series_uid='1.2.3.200')
    for name in os.listdir(os.path.join(folder, 'b')):
        shutil.move(os.path.join(folder, 'b', name), os.path.join(folder, 'b_' + name))
    with pytest.raises(ValueError, match=r"2 DICOM series \(choose one with series_id\); series IDs found: "
                                         r"\['1\.2\.3\.100', '1\.2\.3\.200'\]"):
        read_dicom_series(folder)
    assert read_dicom_series(folder, series_id='1.2.3.200')[0].shape == (10, 8, 2)
    np.testing.assert_array_equal(read_dicom_series(folder, series_id='1.2.3.100')[0], hu_volume(1))
    with pytest.raises(ValueError, match=r"no DICOM series with series_id '9\.9'"):
        read_dicom_series(folder, series_id='9.9')
    # a SEG (which GDCM lists as a series) and an RTSTRUCT beside the CT are not image series
    write_ct_series(str(tmp_path / 'ct'), hu_volume())
    write_rtstruct(str(tmp_path / 'ct' / 'rs.dcm'), {'GTV-1': []})
    write_seg(str(tmp_path / 'ct' / 'seg.dcm'), [np.zeros(SHAPE[:2])], [ORIGIN], [1])
    np.testing.assert_array_equal(read_dicom_series(str(tmp_path / 'ct'))[0], hu_volume())


def test_corrupt_or_missing_slice_is_refused(tmp_path):
    folder = tmp_path / 'ct'
    write_ct_series(str(folder), hu_volume())
    data = (folder / 'slice002.dcm').read_bytes()
    (folder / 'slice002.dcm').write_bytes(data[:len(data) - 20])          # truncated pixel data: GDCM skips it
    with pytest.raises(ValueError, match=r'slice002\.dcm: a DICOM file that GDCM could not read'):
        read_dicom_series(str(folder))
    (folder / 'slice002.dcm').unlink()
    with pytest.raises(ValueError, match=r'not evenly spaced along the normal \(steps \[2\.5, 5\.0\] mm\)'):
        read_dicom_series(str(folder))
    (folder / 'notes.txt').write_text('not DICOM')                        # ignored: no DICM preamble
    (folder / 'slice002.dcm').write_bytes(data)
    assert read_dicom_series(str(folder))[0].shape == SHAPE


@pytest.mark.parametrize('flip_y', [False, True])
def test_rtstruct_square_hole_and_tolerance(tmp_path, flip_y):
    write_ct_series(str(tmp_path / 'ct'), hu_volume(), SPACING, ORIGIN, flip_y=flip_y)
    series = read_dicom_series(str(tmp_path / 'ct'))[2]
    write_rtstruct(str(tmp_path / 'rs.dcm'), {
        'GTV-1': [square(2, 5, 1, 4, 1, flip_y), square(2, 5, 1, 4, 2.4, flip_y)],   # 0.4 slice off: slice 2
        'GTV-2': [square(7, 8, 6, 7, 0, flip_y)],
        'Ring': [square(1, 6, 1, 6, 3, flip_y), square(3, 4, 3, 4, 3, flip_y)],        # inner square: a hole
        'Heart': [square(0, 9, 0, 7, 0, flip_y)]})
    expected = np.zeros(SHAPE, np.uint8)
    expected[2:6, 1:5, 1:3] = 1
    mask = read_rtstruct(str(tmp_path / 'rs.dcm'), series)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.uint8 and mask.sum() == 2 * 4 * 4
    both = read_rtstruct(str(tmp_path / 'rs.dcm'), str(tmp_path / 'ct'), r'GTV-\d+')
    assert both.sum() == 2 * 4 * 4 + 2 * 2 and both[7:9, 6:8, 0].all()
    ring = read_rtstruct(str(tmp_path / 'rs.dcm'), series, ['Ring'])
    assert ring.sum() == 6 * 6 - 2 * 2 and not ring[3:5, 3:5, 3].any() and ring[1:7, 1:7, 3].sum() == 32


def test_rtstruct_errors(tmp_path):
    write_ct_series(str(tmp_path / 'ct'), hu_volume())
    series = read_dicom_series(str(tmp_path / 'ct'))[2]
    write_rtstruct(str(tmp_path / 'rs.dcm'), {'GTV-1': [square(2, 5, 1, 4, 5.6)], 'Heart': []})
    with pytest.raises(ValueError, match=r"rs\.dcm: no ROIName in StructureSetROISequence matches \('Tumour',\); "
                                         r"available: \['GTV-1', 'Heart'\]"):
        read_rtstruct(str(tmp_path / 'rs.dcm'), series, ('Tumour',))
    with pytest.raises(ValueError, match=r"rs\.dcm: contour 0 of ROI 'GTV-1' does not lie on a slice"):
        read_rtstruct(str(tmp_path / 'rs.dcm'), series)
    write_rtstruct(str(tmp_path / 'other.dcm'), {'GTV-1': [square(2, 5, 1, 4, 1)]}, frame_uid='1.2.3.999')
    with pytest.raises(ValueError, match=r'other\.dcm: ROI .GTV-1. has ReferencedFrameOfReferenceUID 1\.2\.3\.999'):
        read_rtstruct(str(tmp_path / 'other.dcm'), series)
    with pytest.raises(ValueError, match=r"slice000\.dcm: Modality is 'CT', expected 'RTSTRUCT'"):
        read_rtstruct(series.files[0], series)
    (tmp_path / 'bad.dcm').write_text('not DICOM')
    with pytest.raises(ValueError, match=r'bad\.dcm: pydicom cannot read it as DICOM \(InvalidDicomError'):
        read_rtstruct(str(tmp_path / 'bad.dcm'), series)
    (tmp_path / 'cut.dcm').write_bytes((tmp_path / 'other.dcm').read_bytes()[:400])   # pydicom reads what is left
    with pytest.raises(ValueError, match=r"cut\.dcm: Modality is None, expected 'RTSTRUCT'"):
        read_rtstruct(str(tmp_path / 'cut.dcm'), series)
    write_rtstruct(str(tmp_path / 'odd.dcm'), {'GTV-1': [square(2, 5, 1, 4, 1)]})
    ds = pydicom.dcmread(str(tmp_path / 'odd.dcm'))
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    contour.ContourData = contour.ContourData[:-1]
    ds.save_as(str(tmp_path / 'odd.dcm'))
    with pytest.raises(ValueError, match=r"odd\.dcm: contour 0 of ROI 'GTV-1': ContourData has 11 values, "
                                         r"NumberOfContourPoints 4 needs 12"):
        read_rtstruct(str(tmp_path / 'odd.dcm'), series)
    with pytest.raises(FileNotFoundError, match=r'RTSTRUCT file not found: .*gone\.dcm'):
        read_rtstruct(str(tmp_path / 'gone.dcm'), series)


def test_dicom_seg_two_frames(tmp_path):
    write_ct_series(str(tmp_path / 'ct'), hu_volume())
    series = read_dicom_series(str(tmp_path / 'ct'))[2]
    a, b = np.zeros(SHAPE[:2], np.uint8), np.zeros(SHAPE[:2], np.uint8)
    a[1:4, 2:4] = 1                                                      # 3 x 2 voxels on slice 1 (x, y)
    b[6:9, 0:5] = 1                                                      # 3 x 5 voxels on slice 3
    write_seg(str(tmp_path / 'seg.dcm'), [a, b], [physical([(0, 0, 1)])[0], physical([(0, 0, 3)])[0]], [1, 2])
    gtv = read_dicom_seg(str(tmp_path / 'seg.dcm'), series)
    expected = np.zeros(SHAPE, np.uint8)
    expected[1:4, 2:4, 1] = 1
    np.testing.assert_array_equal(gtv, expected)
    heart = read_dicom_seg(str(tmp_path / 'seg.dcm'), str(tmp_path / 'ct'), 2)
    assert heart.sum() == 15 and heart[6:9, 0:5, 3].all()
    assert read_dicom_seg(str(tmp_path / 'seg.dcm'), series, '.*').sum() == 6 + 15
    with pytest.raises(ValueError, match=r"seg\.dcm: no SegmentLabel in SegmentSequence matches 'Lung'; "
                                         r"available: \['GTV-1', 'Heart'\]"):
        read_dicom_seg(str(tmp_path / 'seg.dcm'), series, 'Lung')
    write_seg(str(tmp_path / 'off.dcm'), [a], [physical([(0.7, 0, 1)])[0]], [1])
    with pytest.raises(ValueError, match=r'off\.dcm: frame 0 starts at voxel \[0\.7, 0\.0\] in-plane'):
        read_dicom_seg(str(tmp_path / 'off.dcm'), series)
