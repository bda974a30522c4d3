"""Image loading with one rule for images of more than 8 bits per sample (12-bit satellite or medical exports).

mmcv's ``LoadImageFromFile`` decodes with cv2's 8-bit conversion: a 16-bit PNG holding 12-bit data (values up to
4095) becomes values up to 15, a nearly black image, and trains without an error. :func:`decode_image` is the one
rule, used by the training transform :class:`LoadImageFromFileBitDepth` and by ``tools/data/dota/split.py``:

- an 8-bit image (or any format other than PNG/TIFF) is decoded by ``mmcv.imfrombytes`` exactly as mmcv's
  ``LoadImageFromFile`` does (bit-identical);
- a PNG or TIFF of 9-16 bits per sample (unsigned) is decoded with its real values and brought to 8 bits by
  ``bit_depth``: ``'auto'`` shifts by the data's own bit depth (the smallest ``b >= 8`` with
  ``max < 2 ** b``: values up to 4095 are 12-bit data, ``v >> 4``, i.e. ``floor(v / 16)``); an integer ``b``
  (8-16) shifts by ``b - 8`` and refuses values of ``2 ** b`` or more; ``'refuse'`` raises
  :class:`ImageBitDepthError` saying how to convert the image.

``'auto'`` decides per image: a dark 12-bit image whose maximum is 1800 is scaled as 11-bit data (``v >> 3``).
Set the sensor's bit depth (``bit_depth=12``) for one scale across the dataset.
"""
import struct
from typing import Optional, Union

import cv2
import mmengine.fileio as fileio
import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile

from visiondiv.registry import TRANSFORMS

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_TIFF_BITS_PER_SAMPLE = 258


class ImageBitDepthError(ValueError):
    """An image of more than 8 bits per sample that the ``bit_depth`` rule refuses (the message names it)."""


def check_bit_depth(bit_depth: Union[str, int]) -> Union[str, int]:
    """``bit_depth`` if it is ``'auto'``, ``'refuse'`` or an integer from 8 to 16.

    Args:
        bit_depth (str | int): the rule for images of more than 8 bits per sample (see :func:`decode_image`).

    Returns:
        str | int: ``bit_depth``, unchanged.

    Raises:
        ValueError: any other value.
    """
    if bit_depth in ('auto', 'refuse') or (isinstance(bit_depth, int) and not isinstance(bit_depth, bool)
                                           and 8 <= bit_depth <= 16):
        return bit_depth
    raise ValueError(f"bit_depth must be 'auto', 'refuse' or an integer from 8 to 16, got {bit_depth!r}")


def _tiff_bits(content: bytes) -> Optional[int]:
    """BitsPerSample of a classic TIFF's first image (1 when the tag is absent); None if unreadable."""
    order = {b'II': '<', b'MM': '>'}.get(content[:2])
    if order is None:
        return None
    try:
        magic, ifd = struct.unpack(order + 'HI', content[2:8])
        if magic != 42:                     # 43: BigTIFF, not parsed here
            return None
        (num,) = struct.unpack(order + 'H', content[ifd:ifd + 2])
        for k in range(num):
            entry = content[ifd + 2 + 12 * k:ifd + 14 + 12 * k]
            tag, kind, count = struct.unpack(order + 'HHI', entry[:8])
            if tag != _TIFF_BITS_PER_SAMPLE:
                continue
            if kind != 3:                   # SHORT, as the specification says
                return None
            offset = 8 if count <= 2 else struct.unpack(order + 'I', entry[8:12])[0]
            source = entry if count <= 2 else content
            return struct.unpack(order + 'H', source[offset:offset + 2])[0]
    except struct.error:
        return None
    return 1


def image_bit_depth(content: bytes) -> Optional[int]:
    """Bits per sample of a PNG or TIFF, from its header (nothing is decoded).

    Args:
        content (bytes): the image file's bytes.

    Returns:
        int | None: the bits per sample (1-16 for PNG); None for other formats or an unreadable header.
    """
    if content[:8] == _PNG_SIGNATURE and content[12:16] == b'IHDR' and len(content) > 24:
        return content[24]
    return _tiff_bits(content)


def _to_8bit(img: np.ndarray, bit_depth: Union[str, int], bits: int, source: str) -> np.ndarray:
    peak = int(img.max()) if img.size else 0
    data_bits = max(8, peak.bit_length())
    if bit_depth == 'refuse':
        shift = data_bits - 8
        raise ImageBitDepthError(
            f'{source}: a {bits}-bit image (values up to {peak}: {data_bits}-bit data); read as 8-bit it would be '
            f'nearly black (values up to about {round(peak / 256)}). Convert it to 8 bits, e.g. '
            f"cv2.imwrite(OUT, (cv2.imread(IN, cv2.IMREAD_UNCHANGED) >> {shift}).astype('uint8')), or load it "
            f"with bit_depth='auto' (scaled by the data's own bit depth) or bit_depth={data_bits}")
    depth = data_bits if bit_depth == 'auto' else bit_depth
    if peak >> depth:
        raise ImageBitDepthError(f'{source}: values up to {peak} do not fit bit_depth={depth} (at most '
                                 f'{(1 << depth) - 1}); set bit_depth={data_bits} or bit_depth=\'auto\'')
    return (img >> (depth - 8)).astype(np.uint8)


def decode_image(content: bytes, bit_depth: Union[str, int] = 'auto', color_type: Union[str, int] = 'color',
                 imdecode_backend: str = 'cv2', source: str = 'image') -> Optional[np.ndarray]:
    """Decode an image file's bytes to 8 bits per sample; the one rule of training and the DOTA split tool.

    An image of at most 8 bits (or of a format other than PNG/TIFF), and any image with
    ``color_type='unchanged'``, goes through ``mmcv.imfrombytes(content, flag=color_type,
    backend=imdecode_backend)``, as mmcv's ``LoadImageFromFile``: bit-identical. A PNG or TIFF of 9-16
    unsigned bits per sample is decoded by cv2 with its real values (BGR, or grayscale for the
    ``'grayscale*'`` color types) and brought to 8 bits as ``bit_depth`` says (see the module docstring).

    Args:
        content (bytes): the image file's bytes.
        bit_depth (str | int): ``'auto'`` (shift by the data's own bit depth, e.g. 12-bit data: ``v >> 4``),
            an integer from 8 to 16 (shift by ``bit_depth - 8``; larger values are refused) or ``'refuse'``
            (raise for any image of more than 8 bits). Defaults to ``'auto'``.
        color_type (str | int): the ``flag`` of ``mmcv.imfrombytes``. Defaults to ``'color'``.
        imdecode_backend (str): the ``backend`` of ``mmcv.imfrombytes`` (images of more than 8 bits are
            always decoded by cv2). Defaults to ``'cv2'``.
        source (str): the image's path, for the messages. Defaults to ``'image'``.

    Returns:
        np.ndarray | None: the image (uint8 for the images of more than 8 bits); None where the decoder
        gives None (an undecodable file, as ``mmcv.imfrombytes``).

    Raises:
        ImageBitDepthError: an image of more than 8 bits refused by ``bit_depth``.
        ValueError: an invalid ``bit_depth``.
    """
    check_bit_depth(bit_depth)
    bits = image_bit_depth(content)
    if bits is None or not 8 < bits <= 16 or not isinstance(color_type, str) or color_type == 'unchanged':
        return mmcv.imfrombytes(content, flag=color_type, backend=imdecode_backend)
    flag = cv2.IMREAD_ANYDEPTH | (cv2.IMREAD_GRAYSCALE if color_type.startswith('grayscale') else cv2.IMREAD_COLOR)
    if color_type.endswith('ignore_orientation'):
        flag |= cv2.IMREAD_IGNORE_ORIENTATION
    img = cv2.imdecode(np.frombuffer(content, np.uint8), flag)
    if img is None or img.dtype != np.uint16:   # signed or float samples: mmcv's reading, as before
        return mmcv.imfrombytes(content, flag=color_type, backend=imdecode_backend)
    return _to_8bit(img, bit_depth, bits, source)


@TRANSFORMS.register_module()
class LoadImageFromFileBitDepth(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with a rule for images of more than 8 bits per sample (:func:`decode_image`).

    8-bit images load bit-identically to ``mmdet.LoadImageFromFile``; a 16-bit PNG/TIFF holding e.g. 12-bit data
    is scaled to 8 bits by its real range instead of loading nearly black. The DOTA dataset configs
    (``configs/_base_/datasets/dota.py``, ``dota_ms.py``, ``toy_dota.py``) load with it; ``tools/data/dota/split.py
    --bit-depth`` applies the same rule to the patches it writes.

    Args:
        bit_depth (str | int): ``'auto'`` (shift by the data's own bit depth), an integer from 8 to 16 (the
            sensor's bit depth: one scale for every image) or ``'refuse'``. Defaults to ``'auto'``.
        **kwargs: the arguments of mmcv's ``LoadImageFromFile``: ``to_float32``, ``color_type``,
            ``imdecode_backend``, ``file_client_args``, ``ignore_empty`` (which never hides a refusal of
            ``bit_depth``), ``backend_args``.
    """

    def __init__(self, bit_depth: Union[str, int] = 'auto', **kwargs) -> None:
        super().__init__(**kwargs)
        self.bit_depth = check_bit_depth(bit_depth)

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` into ``img``, ``img_shape``, ``ori_shape`` (None: an ignored empty file)."""
        filename = results['img_path']
        try:
            if self.file_client_args is not None:
                img_bytes = fileio.FileClient.infer_client(self.file_client_args, filename).get(filename)
            else:
                img_bytes = fileio.get(filename, backend_args=self.backend_args)
            img = decode_image(img_bytes, self.bit_depth, self.color_type, self.imdecode_backend, filename)
        except ImageBitDepthError:
            raise
        except Exception:
            if self.ignore_empty:
                return None
            raise
        assert img is not None, f'failed to load image: {filename}'
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, bit_depth={self.bit_depth!r})'
