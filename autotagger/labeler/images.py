"""Turns untrusted upload bytes into an upright RGB picture, or a Rekognition-named error.

Rekognition accepts only JPEG and PNG, at least 80 px and at most 10,000 px on a side; the local
labeler refuses the same images with the same error names, so a workflow's Retry/Catch behaves
the same on both. The format is decided by magic bytes, not by what Pillow could read (Pillow
also reads GIF, WebP, ...), and the size is checked from the header before any pixel is decoded,
so a decompression bomb costs nothing. JPEGs are decoded at a reduced DCT scale when the models
need far fewer pixels than the file has (the models see at most 512 px).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps

from autotagger.contracts import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MIN_IMAGE_SIDE
from autotagger.errors import ImageTooLargeException, InvalidImageFormatException
from autotagger.pixels import to_rgb

# Pillow's decompression-bomb threshold (about 9,459 x 9,459): a 10,000 x 10,000 PNG would need
# 300 MB+ decoded, per request, so such images are refused although each side is in range.
MAX_PIXELS = 89_478_485
DECODE_AT_LEAST = 512  # the largest model input side; JPEG draft decoding never goes below it

_SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
]
_OTHER_SIGNATURES = [
    (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"%PDF", "PDF"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"<svg", "SVG"), (b"<?xml", "SVG/XML"),
]


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # RGB, EXIF orientation applied, possibly reduced for decoding speed
    width: int  # the upright image's size in the file, in pixels
    height: int
    format: str


def sniff_format(data: bytes) -> str | None:
    """'JPEG' or 'PNG' when the bytes start like one, else None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _describe_other(data: bytes) -> str:
    head = data[:32]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return "HEIC/AVIF" if head[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"msf1", b"hevc") else "ISO media"
    stripped = head.lstrip()
    for signature, name in _OTHER_SIGNATURES:
        if stripped.startswith(signature):
            return name
    return "unrecognised data"


def decode(data: bytes, at_least: int = DECODE_AT_LEAST) -> DecodedImage:
    """The upright RGB image in `data`; raises InvalidImageFormatException or ImageTooLargeException.

    A JPEG is decoded at the smallest DCT scale that keeps both sides at least `at_least` pixels
    (the models need 512; OCR needs more to read small letters)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidImageFormatException("Image bytes are required.")
    data = bytes(data)
    if not data:
        raise InvalidImageFormatException("The image is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLargeException(
            f"The image is {len(data) / 1e6:.1f} MB; the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidImageFormatException(
            f"Unsupported image format ({_describe_other(data)}); only JPEG and PNG are accepted.")
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = image.size  # from the header; no pixels decoded yet
        orientation = image.getexif().get(0x0112, 1) if fmt == "JPEG" else 1
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        if max(width, height) > MAX_IMAGE_SIDE:
            raise ImageTooLargeException(
                f"The image is {width}x{height} px; the maximum is {MAX_IMAGE_SIDE} px on a side.")
        if width * height > MAX_PIXELS:
            raise ImageTooLargeException(
                f"The image is {width}x{height} px; at most {MAX_PIXELS:,} pixels are decoded.")
        if min(width, height) < MIN_IMAGE_SIDE:
            raise InvalidImageFormatException(
                f"The image is {width}x{height} px; the minimum is {MIN_IMAGE_SIDE} px on a side.")
        if fmt == "JPEG":
            image.draft("RGB", (at_least, at_least))
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb = to_rgb(image)
    except (ImageTooLargeException, InvalidImageFormatException):
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeException(f"The image has too many pixels to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError) as exc:
        raise InvalidImageFormatException(f"The {fmt} data is corrupt or truncated: {exc}") from exc
    return DecodedImage(rgb, width, height, fmt)
