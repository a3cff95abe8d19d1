"""Original image bytes -> an upright JPEG that Rekognition reads, or a reason why not.

The format is decided by magic bytes (`formats.sniff`); the size from the header, before any
pixel is decoded, so a decompression bomb costs nothing. The EXIF orientation is applied, so the
derivative is upright and the labels' boxes are relative to what a person sees. The longest side
is scaled down to NORMALIZED_MAX_SIDE (never up); animated images (GIF, WebP, HEIF sequences) are
analysed by their first frame. JPEGs are decoded at a reduced DCT scale when they are far larger
than the derivative, which bounds the memory a 40 MB camera JPEG needs.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from autotagger.contracts import (
    MAX_IMAGE_SIDE,
    MAX_SOURCE_BYTES,
    MAX_SOURCE_PIXELS,
    MIN_IMAGE_SIDE,
    NORMALIZED_JPEG_QUALITY,
    NORMALIZED_MAX_SIDE,
)
from autotagger.pixels import to_rgb

from . import formats
from .errors import CorruptImage, ImageTooLarge, ImageTooSmall, UnsupportedImageFormat

pillow_heif.register_heif_opener()  # HEIC/HEIF; Pillow (>= 11.3 wheels) reads AVIF itself

_ORIENTATION = 0x0112
_DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error, IndexError, TypeError)


@dataclass(frozen=True)
class Normalized:
    jpeg: bytes
    source_format: str
    frames: int  # frames in the original; only the first is analysed
    orientation: int  # the EXIF orientation that was applied (1: none)
    width: int  # the derivative's size, upright
    height: int
    source_width: int  # the original's size, upright
    source_height: int


def _scale(fmt: str, width: int, height: int) -> float:
    """The longest side down to NORMALIZED_MAX_SIDE (never up), unless that would take the shortest
    below Rekognition's minimum: then as little as that allows, within its maximum."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, NORMALIZED_MAX_SIDE / long_side)
    if short_side * scale < MIN_IMAGE_SIDE:
        scale = MIN_IMAGE_SIDE / short_side
    if long_side * scale > MAX_IMAGE_SIDE:
        raise ImageTooLarge(f"The {fmt} image is {width}x{height} px: too long and narrow to fit Rekognition's "
                            f"limits of at most {MAX_IMAGE_SIDE} px on a side and at least {MIN_IMAGE_SIDE}.")
    return scale


def normalize(data: bytes) -> Normalized:
    """The upright JPEG derivative of `data`; raises a NormalizeError saying why there is none."""
    if len(data) > MAX_SOURCE_BYTES:
        raise ImageTooLarge(f"The image is {len(data):,} bytes; at most {MAX_SOURCE_BYTES:,} are normalised.")
    fmt = formats.sniff(data)
    if fmt is None:
        raise UnsupportedImageFormat(
            f"The object is {formats.describe(data)}, not an image this pipeline reads "
            "(JPEG, PNG, GIF, WebP, HEIC/HEIF or AVIF, decided by its content).")
    try:
        with warnings.catch_warnings():
            # Between Pillow's own bomb threshold and MAX_SOURCE_PIXELS Pillow only warns; the
            # limit that counts is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                return _normalize_open(image, fmt)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"The {fmt} image declares too many pixels to decode safely: {exc}") from exc
    except (ImageTooLarge, ImageTooSmall):
        raise
    except UnidentifiedImageError as exc:  # the header itself is cut short or damaged
        raise CorruptImage(f"The {fmt} data is corrupt or truncated: its header cannot be read.") from exc
    except _DECODER_ERRORS as exc:
        raise CorruptImage(f"The {fmt} data is corrupt or truncated: {exc}") from exc


def _normalize_open(image: Image.Image, fmt: str) -> Normalized:
    width, height = image.size  # from the header: nothing decoded yet
    if width * height > MAX_SOURCE_PIXELS:
        raise ImageTooLarge(f"The {fmt} image is {width}x{height} px ({width * height:,} pixels); "
                            f"at most {MAX_SOURCE_PIXELS:,} pixels are decoded.")
    frames = int(getattr(image, "n_frames", 1))
    orientation = image.getexif().get(_ORIENTATION, 1)
    if orientation not in range(1, 9):
        orientation = 1
    upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    if min(upright) < MIN_IMAGE_SIDE:
        raise ImageTooSmall(f"The {fmt} image is {upright[0]}x{upright[1]} px; Rekognition needs at least "
                            f"{MIN_IMAGE_SIDE} px on a side.")
    scale = _scale(fmt, *upright)
    if fmt == formats.JPEG:
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    image.seek(0)
    image.load()
    upright_image = ImageOps.exif_transpose(image) if orientation != 1 else image
    rgb = to_rgb(upright_image)
    size = (max(1, round(upright[0] * scale)), max(1, round(upright[1] * scale)))
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=NORMALIZED_JPEG_QUALITY, optimize=True)
    return Normalized(out.getvalue(), fmt, frames, orientation, rgb.width, rgb.height, upright[0], upright[1])
