"""Tiny DICOM files for the tests: a CT series written with SimpleITK (as in its DicomSeriesFromArray
example), an RTSTRUCT and a binary SEG built with pydicom."""
import os
import os.path as osp

import numpy as np

FRAME_UID = '1.2.826.0.1.3680043.8.498.1'
STUDY_UID = '1.2.826.0.1.3680043.8.498.2'
CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'


def write_ct_series(folder, hu_xyz, spacing=(0.7, 0.8, 2.5), origin=(-10.0, -20.0, 30.0),
                    series_uid='1.2.826.0.1.3680043.8.498.10', slope=1.0, intercept=-1024.0, flip_y=False,
                    frame_uid=FRAME_UID):
    """One file per slice; ``hu_xyz`` in HU, (x, y, z). GDCM stores (HU - intercept) / slope.

    ``flip_y``: ImageOrientationPatient 1\\0\\0\\0\\-1\\0 (rows run towards -y, slices along -z).
    """
    import SimpleITK as sitk
    os.makedirs(folder, exist_ok=True)
    col_dir = np.array([0.0, -1.0, 0.0]) if flip_y else np.array([0.0, 1.0, 0.0])
    normal = np.cross([1.0, 0.0, 0.0], col_dir)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(hu_xyz.shape[2]):
        image = sitk.GetImageFromArray(np.ascontiguousarray(hu_xyz[:, :, k].T).astype(np.int16))   # (y, x)
        image.SetSpacing(spacing[:2])
        position = np.asarray(origin) + k * spacing[2] * normal
        tags = {'0008|0060': 'CT', '0008|0016': CT_IMAGE_STORAGE, '0008|0018': f'{series_uid}.{k + 1}',
                '0020|000d': STUDY_UID, '0020|000e': series_uid, '0020|0052': frame_uid,
                '0020|0013': str(k + 1), '0020|0032': '\\'.join(f'{v:.4f}' for v in position),
                '0020|0037': '\\'.join(str(v) for v in [1, 0, 0, *col_dir.astype(int)]),
                '0028|0030': f'{spacing[1]}\\{spacing[0]}', '0018|0050': str(spacing[2]),
                '0028|1053': str(slope), '0028|1052': str(intercept)}
        for key, value in tags.items():
            image.SetMetaData(key, value)
        writer.SetFileName(osp.join(folder, f'slice{k:03d}.dcm'))
        writer.Execute(image)


def _ds(**kw):
    from pydicom.dataset import Dataset
    ds = Dataset()
    for key, value in kw.items():
        setattr(ds, key, value)
    return ds


def _file(path, sop_class, modality, **kw):
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = _ds(SOPClassUID=sop_class, SOPInstanceUID=meta.MediaStorageSOPInstanceUID, Modality=modality,
             StudyInstanceUID=STUDY_UID, SeriesInstanceUID=generate_uid(), **kw)
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)


def write_rtstruct(path, rois, frame_uid=FRAME_UID):
    """``rois``: {ROIName: [contour (N, 3) in patient mm, ...]}."""
    _file(path, '1.2.840.10008.5.1.4.1.1.481.3', 'RTSTRUCT', FrameOfReferenceUID=frame_uid,
          StructureSetROISequence=[_ds(ROINumber=i + 1, ROIName=name, ReferencedFrameOfReferenceUID=frame_uid)
                                   for i, name in enumerate(rois)],
          ROIContourSequence=[_ds(ReferencedROINumber=i + 1, ContourSequence=[
              _ds(ContourGeometricType='CLOSED_PLANAR', NumberOfContourPoints=len(c),
                  ContourData=[f'{v:.4f}' for v in np.asarray(c, float).ravel()]) for c in contours])
              for i, contours in enumerate(rois.values())])


def write_seg(path, frames_xy, positions, segment_numbers, labels=('GTV-1', 'Heart')):
    """Binary SEG: frame f is ``frames_xy[f]`` (x, y) of segment ``segment_numbers[f]`` at ``positions[f]`` (mm)."""
    from pydicom.pixels import pack_bits
    frames = np.stack([np.asarray(f, np.uint8).T for f in frames_xy])                  # (frames, rows=y, cols=x)
    _file(path, '1.2.840.10008.5.1.4.1.1.66.4', 'SEG', SegmentationType='BINARY', FrameOfReferenceUID=FRAME_UID,
          Rows=frames.shape[1], Columns=frames.shape[2], NumberOfFrames=len(frames), SamplesPerPixel=1,
          PhotometricInterpretation='MONOCHROME2', BitsAllocated=1, BitsStored=1, HighBit=0, PixelRepresentation=0,
          SegmentSequence=[_ds(SegmentNumber=i + 1, SegmentLabel=name) for i, name in enumerate(labels)],
          PerFrameFunctionalGroupsSequence=[
              _ds(SegmentIdentificationSequence=[_ds(ReferencedSegmentNumber=n)],
                  PlanePositionSequence=[_ds(ImagePositionPatient=[f'{v:.4f}' for v in p])])
              for p, n in zip(positions, segment_numbers)],
          PixelData=pack_bits(frames))
