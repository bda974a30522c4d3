"""Read medical images with SimpleITK (MetaImage, NRRD, NIfTI, DICOM series) and DICOM masks with pydicom
(RTSTRUCT contours, binary DICOM SEG), as arrays in nibabel's (x, y, z) order with the spacing in mm.

SimpleITK's ``GetArrayFromImage`` returns (z, y, x); every reader here transposes to (x, y, z), so
``array[i, j, k]`` is the voxel at continuous index (i, j, k) of the image: physical point
``origin + direction @ (spacing * (i, j, k))`` (DICOM patient coordinates, LPS, mm).
"""
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Optional, Pattern, Sequence, Tuple, Union

import numpy as np

Spacing = Tuple[float, float, float]
#: ROI names (exact) or a regular expression (``re.fullmatch``) selecting them
Names = Union[str, Pattern, Sequence[str]]


def _sitk_message(err: Exception) -> str:
    """The ``sitk::ERROR`` line of a SimpleITK exception (its text starts with C++ file and line)."""
    text = str(err)
    found = re.search(r'sitk::ERROR:\s*(.*)', text)
    return (found.group(1) if found else text).strip().splitlines()[0]


def _to_xyz(image) -> np.ndarray:
    import SimpleITK as sitk
    return sitk.GetArrayFromImage(image).transpose(2, 1, 0)


def read_image(path: str) -> Tuple[np.ndarray, Spacing]:
    """Array (x, y, z order, as nibabel reads NIfTI) and spacing (x, y, z, mm) of a 3-D scalar image.

    Any format SimpleITK reads: MetaImage (``.mhd`` + raw, ``.mha``; compressed too), NRRD
    (``.nrrd``, ``.nhdr``), NIfTI (``.nii``, ``.nii.gz``).

    Args:
        path (str): the image file.

    Returns:
        tuple: the array (x, y, z, the file's pixel type) and the spacing (3 floats, x, y, z, mm).

    Raises:
        FileNotFoundError: naming the file when it is missing.
        ValueError: naming the file: unreadable (SimpleITK's reason), not 3-D or not scalar.
    """
    import SimpleITK as sitk
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        image = sitk.ReadImage(path)
    except RuntimeError as err:
        raise ValueError(f'{path}: SimpleITK cannot read it ({_sitk_message(err)})') from None
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(f'{path}: expected a 3-D scalar image, got {image.GetDimension()}-D with '
                         f'{image.GetNumberOfComponentsPerPixel()} components per voxel')
    return _to_xyz(image), tuple(float(s) for s in image.GetSpacing())


@dataclass(frozen=True)
class DicomSeries:
    """Geometry and identity of a DICOM image series read by :func:`read_dicom_series`.

    ``direction`` is 3 x 3 with the physical direction of index axis i, j, k in column 0, 1, 2;
    ``slice_positions`` are the ImagePositionPatient of slice k = 0, 1, ... (mm), ``sop_instance_uids``
    their SOPInstanceUID.
    """

    folder: str
    series_id: str
    shape: Tuple[int, int, int]
    spacing: Spacing
    origin: Tuple[float, float, float]
    direction: np.ndarray
    slice_positions: np.ndarray
    sop_instance_uids: Tuple[str, ...]
    frame_of_reference_uid: str
    files: Tuple[str, ...]

    def to_index(self, points: np.ndarray) -> np.ndarray:
        """Continuous voxel indices (N, 3) of physical points (N, 3) in mm."""
        offset = np.asarray(points, np.float64).reshape(-1, 3) - np.asarray(self.origin)
        return np.linalg.solve(self.direction, offset.T).T / np.asarray(self.spacing)


def is_dicom_file(path: str) -> bool:
    """Whether ``path`` starts with the DICOM preamble (128 bytes, then ``DICM``).

    Args:
        path (str): any file.

    Returns:
        bool: True for a DICOM Part 10 file; False otherwise, also when it cannot be opened.
    """
    try:
        with open(path, 'rb') as f:
            return f.read(132)[128:] == b'DICM'
    except OSError:
        return False


#: modalities of DICOM objects that GDCM lists as series but that are not the image to read (a SEG has
#: pixel data; an RT dose grid is not the CT)
NON_IMAGE_MODALITIES = ('SEG', 'RTSTRUCT', 'RTDOSE', 'RTPLAN', 'RTRECORD', 'REG', 'SR', 'PR', 'KO')


def _modality(path: str) -> Optional[str]:
    import pydicom
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=['Modality']).get('Modality')
    except Exception:           # unreadable here: let SimpleITK report it when the series is read
        return None


def read_dicom_series(folder: str, series_id: Optional[str] = None) -> Tuple[np.ndarray, Spacing, DicomSeries]:
    """Read the DICOM image series in ``folder`` (not its sub-folders) with SimpleITK's ImageSeriesReader.

    GDCM applies RescaleSlope / RescaleIntercept, so a CT comes back in HU. Slices are ordered by
    position along the slice normal.

    Args:
        folder (str): the folder holding the series' files.
        series_id (str, optional): SeriesInstanceUID to read when the folder holds several image series
            (series of ``NON_IMAGE_MODALITIES``, e.g. a SEG beside the CT, are not counted); None: the
            folder's only image series. Defaults to None.

    Returns:
        tuple: the array (x, y, z), the spacing (x, y, z, mm) and a :class:`DicomSeries` (origin,
        direction, slice positions, SOPInstanceUIDs: what maps contours and segmentations onto the voxels).

    Raises:
        FileNotFoundError: the folder is missing.
        ValueError: naming the folder: no series, several series without ``series_id`` (listing the IDs
            found), an unknown ``series_id``, a series SimpleITK cannot read; a DICOM file of the series
            that GDCM left out (corrupt or truncated: GDCM skips such files silently) and unevenly spaced
            slices (a missing slice) are refused too, naming the file or the positions.
    """
    import SimpleITK as sitk
    if not osp.isdir(folder):
        raise FileNotFoundError(f'DICOM series folder not found: {folder}')
    reader = sitk.ImageSeriesReader()
    found = tuple(reader.GetGDCMSeriesIDs(folder))
    if series_id is None:
        found = tuple(uid for uid in found if _modality(reader.GetGDCMSeriesFileNames(folder, uid)[0])
                      not in NON_IMAGE_MODALITIES)
        if len(found) != 1:
            what = 'no DICOM series' if not found else f'{len(found)} DICOM series (choose one with series_id)'
            raise ValueError(f'{folder}: {what}; series IDs found: {list(found)}')
        series_id = found[0]
    elif series_id not in found:
        raise ValueError(f'{folder}: no DICOM series with series_id {series_id!r}; series IDs found: {list(found)}')
    files = tuple(reader.GetGDCMSeriesFileNames(folder, series_id))
    _refuse_dropped_files(folder, series_id, files)
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    try:
        image = reader.Execute()
    except RuntimeError as err:
        raise ValueError(f'{folder}: SimpleITK cannot read series {series_id} ({_sitk_message(err)})') from None

    def tag(k: int, key: str) -> str:
        return reader.GetMetaData(k, key).strip() if reader.HasMetaDataKey(k, key) else ''

    n = len(files)
    positions = np.array([[float(v) for v in tag(k, '0020|0032').split('\\')] if tag(k, '0020|0032')
                          else [np.nan] * 3 for k in range(n)])
    direction = np.array(image.GetDirection(), np.float64).reshape(3, 3)
    spacing = tuple(float(s) for s in image.GetSpacing())
    if n > 2 and np.isfinite(positions).all():
        steps = np.diff(positions @ direction[:, 2])
        if np.abs(steps - np.median(steps)).max() > 1e-2 * abs(np.median(steps)) + 1e-4:
            raise ValueError(f'{folder}: slices of series {series_id} are not evenly spaced along the normal '
                             f'(steps {np.round(steps, 3).tolist()} mm): a slice is missing or the series mixes '
                             'acquisitions')
    info = DicomSeries(folder=folder, series_id=series_id, shape=tuple(image.GetSize()), spacing=spacing,
                       origin=tuple(float(o) for o in image.GetOrigin()), direction=direction,
                       slice_positions=positions, sop_instance_uids=tuple(tag(k, '0008|0018') for k in range(n)),
                       frame_of_reference_uid=tag(0, '0020|0052'), files=files)
    return _to_xyz(image), spacing, info


def _refuse_dropped_files(folder: str, series_id: str, files: Sequence[str]) -> None:
    """GDCM silently leaves out a file it cannot parse: refuse DICOM files of the folder that are outside
    every series and unreadable, or that belong to ``series_id`` yet were not listed."""
    import pydicom
    listed = {osp.abspath(f) for f in files}
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if osp.abspath(path) in listed or not osp.isfile(path) or not is_dicom_file(path):
            continue
        try:
            uid = pydicom.dcmread(path, stop_before_pixels=True).get('SeriesInstanceUID')
        except Exception:       # pydicom raises several types for truncated files
            uid = None
        if uid is None or uid == series_id:
            raise ValueError(f'{path}: a DICOM file that GDCM could not read (corrupt or truncated?); '
                             f'series {series_id} in {folder} would be read without it')


def _dcmread(path: str, modality: str):
    import pydicom
    if not osp.isfile(path):
        raise FileNotFoundError(f'{modality} file not found: {path}')
    try:
        ds = pydicom.dcmread(path)
    except Exception as err:    # InvalidDicomError, struct/EOF errors on truncated files
        raise ValueError(f'{path}: pydicom cannot read it as DICOM ({type(err).__name__}: {err})') from None
    if ds.get('Modality') != modality:
        raise ValueError(f"{path}: Modality is {ds.get('Modality')!r}, expected {modality!r}")
    return ds


def _reference(reference: Union[str, DicomSeries]) -> DicomSeries:
    return reference if isinstance(reference, DicomSeries) else read_dicom_series(reference)[2]


def _select(names: dict, wanted: Names, path: str, what: str) -> list:
    """Keys of ``names`` ({number: name}) whose name is in ``wanted`` (or fully matches it, a regex)."""
    if isinstance(wanted, (str, re.Pattern)):
        pattern = re.compile(wanted)
        keys = [k for k, v in names.items() if pattern.fullmatch(v)]
    else:
        keys = [k for k, v in names.items() if v in set(wanted)]
    if not keys:
        raise ValueError(f'{path}: no {what} matches {wanted!r}; available: {sorted(names.values())}')
    return keys


def _slice_index(series: DicomSeries, index: np.ndarray, path: str, what: str) -> int:
    """The slice whose position is within half a slice of the continuous z index of ``what``."""
    k = int(np.rint(index[:, 2].mean()))
    if np.ptp(index[:, 2]) > 0.5 or not 0 <= k < series.shape[2]:
        raise ValueError(f'{path}: {what} does not lie on a slice of the series in {series.folder} '
                         f'(slice index {np.round(index[:, 2].min(), 2)}..{np.round(index[:, 2].max(), 2)}, '
                         f'the series has {series.shape[2]} slices)')
    return k


def read_rtstruct(path: str, reference: Union[str, DicomSeries], roi_names: Names = ('GTV-1',)) -> np.ndarray:
    """uint8 mask (x, y, z) of the series ``reference``: 1 inside the RTSTRUCT contours of the chosen ROIs.

    ROIContourSequence -> ContourSequence -> ContourData (x, y, z in patient mm) are mapped to voxel
    indices through the series' origin, spacing and direction; each contour goes to the slice within
    half a slice of its z and is filled with ``skimage.draw.polygon`` (voxels whose centre lies inside
    or on it). Contours of one ROI nested in a slice are holes (XOR); several ROIs are united.

    Args:
        path (str): the RTSTRUCT file.
        reference (str | DicomSeries): the image series (a :class:`DicomSeries` or its folder, then read
            with :func:`read_dicom_series`).
        roi_names (str | Pattern | Sequence[str]): ROIName values (a sequence: exact names), or a regular
            expression (a str or compiled pattern) that must match the whole name. Defaults to
            ``('GTV-1',)``.

    Returns:
        np.ndarray: uint8 mask of the series' shape (x, y, z), 1 inside the chosen ROIs, 0 elsewhere.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming the file: unreadable, Modality not RTSTRUCT, no ROI matching (listing the ROI
            names), FrameOfReferenceUID differing from the series', a ContourData whose length does not fit
            NumberOfContourPoints, a contour off the series' slices.
    """
    from skimage.draw import polygon
    series = _reference(reference)
    ds = _dcmread(path, 'RTSTRUCT')
    rois = {int(r.ROINumber): str(r.get('ROIName', '')) for r in ds.get('StructureSetROISequence', [])}
    chosen = _select(rois, roi_names, path, 'ROIName in StructureSetROISequence')
    for r in ds.StructureSetROISequence:
        frame = r.get('ReferencedFrameOfReferenceUID')
        if int(r.ROINumber) in chosen and frame and series.frame_of_reference_uid \
                and frame != series.frame_of_reference_uid:
            raise ValueError(f'{path}: ROI {r.ROIName!r} has ReferencedFrameOfReferenceUID {frame}, the series in '
                             f'{series.folder} {series.frame_of_reference_uid}')
    nx, ny, nz = series.shape
    mask = np.zeros(series.shape, np.uint8)
    for roi in ds.get('ROIContourSequence', []):
        number = int(roi.ReferencedROINumber)
        if number not in chosen:
            continue
        filled = np.zeros(series.shape, bool)
        for c, contour in enumerate(roi.get('ContourSequence', [])):
            data = np.asarray(contour.get('ContourData', []), np.float64)
            count = contour.get('NumberOfContourPoints')
            if data.size % 3 or (count is not None and data.size != 3 * int(count)):
                raise ValueError(f'{path}: contour {c} of ROI {rois[number]!r}: ContourData has {data.size} values, '
                                 f'NumberOfContourPoints {count} needs {3 * int(count or 0)}')
            points = data.reshape(-1, 3)
            if len(points) < 3:            # POINT / OPEN contours enclose nothing
                continue
            index = series.to_index(points)
            k = _slice_index(series, index, path, f'contour {c} of ROI {rois[number]!r}')
            rr, cc = polygon(index[:, 0], index[:, 1], shape=(nx, ny))
            filled[rr, cc, k] ^= True
        mask |= filled.astype(np.uint8)
    return mask


def read_dicom_seg(path: str, reference: Union[str, DicomSeries], segments: Union[int, Names] = 'GTV-1'
                   ) -> np.ndarray:
    """uint8 mask (x, y, z) of the series ``reference``: 1 in the chosen segments of a binary DICOM SEG.

    Each frame's PerFrameFunctionalGroupsSequence gives its segment
    (SegmentIdentificationSequence.ReferencedSegmentNumber) and its ImagePositionPatient
    (PlanePositionSequence), which must lie on a slice of the series (within half a voxel); frames are
    on the series' in-plane grid (Rows, Columns equal).

    Args:
        path (str): the DICOM SEG file.
        reference (str | DicomSeries): the image series (a :class:`DicomSeries` or its folder, then read
            with :func:`read_dicom_series`).
        segments (int | str | Pattern | Sequence[str]): a SegmentNumber (int), SegmentLabel values (a
            sequence: exact labels) or a regular expression (a str or compiled pattern) for the whole label.
            Defaults to ``'GTV-1'``.

    Returns:
        np.ndarray: uint8 mask of the series' shape (x, y, z), 1 in the chosen segments, 0 elsewhere.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming the file: unreadable, Modality not SEG, SegmentationType not BINARY, no matching
            segment (listing the labels), a grid or frame position that does not fit the series.
    """
    series = _reference(reference)
    ds = _dcmread(path, 'SEG')
    if ds.get('SegmentationType') != 'BINARY':
        raise ValueError(f"{path}: SegmentationType is {ds.get('SegmentationType')!r}; only BINARY is supported")
    labels = {int(s.SegmentNumber): str(s.get('SegmentLabel', '')) for s in ds.get('SegmentSequence', [])}
    if isinstance(segments, int):
        if segments not in labels:
            raise ValueError(f'{path}: no SegmentNumber {segments} in SegmentSequence; available: {labels}')
        chosen = [segments]
    else:
        chosen = _select(labels, segments, path, 'SegmentLabel in SegmentSequence')
    nx, ny, nz = series.shape
    if (int(ds.Columns), int(ds.Rows)) != (nx, ny):
        raise ValueError(f'{path}: Columns x Rows {ds.Columns} x {ds.Rows} differ from the series in '
                         f'{series.folder} ({nx} x {ny})')
    frames = ds.pixel_array.reshape(-1, int(ds.Rows), int(ds.Columns))
    mask = np.zeros(series.shape, np.uint8)
    for f, group in enumerate(ds.PerFrameFunctionalGroupsSequence):
        if int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber) not in chosen:
            continue
        index = series.to_index(np.asarray(group.PlanePositionSequence[0].ImagePositionPatient, np.float64))
        if np.abs(index[0, :2]).max() > 0.5:
            raise ValueError(f'{path}: frame {f} starts at voxel {np.round(index[0, :2], 2).tolist()} in-plane, '
                             f'not on the grid of the series in {series.folder}')
        k = _slice_index(series, index, path, f'frame {f}')
        mask[:, :, k] |= frames[f].T.astype(np.uint8)     # frame (rows = y, columns = x) -> (x, y)
    return mask
