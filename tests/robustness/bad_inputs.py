"""Bytes for the bad-input matrix, made on the fly (nothing downloaded)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def photo(fmt: str = "PNG", size: tuple[int, int] = (160, 120)) -> bytes:
    """A small picture with some structure (a gradient and a square)."""
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    array = np.stack([np.tile(x, (size[1], 1))] * 3, axis=-1)
    array[size[1] // 4: size[1] // 2, size[0] // 4: size[0] // 2] = (200, 30, 30)
    return _encode(Image.fromarray(array, "RGB"), fmt)


def truncated_jpeg() -> bytes:
    full = photo("JPEG", (400, 300))
    return full[: len(full) // 3]


def gif() -> bytes:
    return _encode(Image.new("P", (120, 120), 3), "GIF")


def webp() -> bytes:
    return _encode(Image.new("RGB", (120, 120), (10, 200, 10)), "WEBP")


def heic() -> bytes:
    """The start of an HEIF file (ftyp box, brand heic); nothing here can write real HEIC."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


def svg() -> bytes:
    return (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120">'
            b'<rect width="120" height="120" fill="red"/></svg>')


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png_of_size(width: int, height: int) -> bytes:
    return _encode(Image.new("L", (width, height), 128), "PNG")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(side: int = 9999) -> bytes:
    """A real PNG of side x side 1-bit pixels (about 100 megapixels, 12 KB on disk): decoding it
    would take 100 MB as 8-bit grey. Every side is within Rekognition's 10,000 px."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    idat = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def noise_png(megabytes: float, seed: int = 0) -> bytes:
    """A valid PNG of random pixels (incompressible), about `megabytes` MB."""
    side = int((megabytes * 1e6 / 3) ** 0.5)
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return _encode(Image.fromarray(pixels, "RGB"), "PNG", compress_level=1)
