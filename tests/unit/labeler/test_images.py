"""What the labeler accepts and refuses, named as Rekognition names it."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from autotagger.contracts import MAX_IMAGE_BYTES
from autotagger.errors import ImageTooLargeException, InvalidImageFormatException
from autotagger.labeler.images import decode


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def gradient(width=120, height=90) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    return Image.fromarray(np.stack([np.tile(x, (height, 1))] * 3, axis=-1), "RGB")


def test_given_jpeg_when_decoded_then_rgb_of_the_same_size():
    decoded = decode(encode(gradient(), "JPEG"))
    assert (decoded.image.mode, decoded.width, decoded.height, decoded.format) == ("RGB", 120, 90, "JPEG")


def test_given_png_when_decoded_then_rgb_of_the_same_size():
    decoded = decode(encode(gradient(100, 200), "PNG"))
    assert (decoded.image.mode, decoded.image.size, decoded.format) == ("RGB", (100, 200), "PNG")


def test_given_exif_rotated_jpeg_when_decoded_then_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    decoded = decode(encode(gradient(160, 100), "JPEG", exif=exif.tobytes()))
    assert decoded.image.size == (100, 160)
    assert (decoded.width, decoded.height) == (100, 160)


def test_given_transparent_png_when_decoded_then_transparent_pixels_are_white():
    rgba = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    decoded = decode(encode(rgba, "PNG"))
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((50, 50)) == (255, 255, 255)


def test_given_grayscale_png_when_decoded_then_rgb_with_equal_channels():
    decoded = decode(encode(gradient().convert("L"), "PNG"))
    r, g, b = decoded.image.getpixel((100, 10))
    assert decoded.image.mode == "RGB" and r == g == b and r > 150


def test_given_16_bit_grayscale_png_when_decoded_then_brightness_is_scaled_not_clipped():
    mid_grey = Image.fromarray(np.full((100, 100), 32768, dtype=np.uint16))
    decoded = decode(encode(mid_grey, "PNG"))
    assert 120 <= decoded.image.getpixel((5, 5))[0] <= 135


def test_given_palette_png_when_decoded_then_rgb():
    decoded = decode(encode(gradient().convert("P"), "PNG"))
    assert decoded.image.mode == "RGB"


@pytest.mark.parametrize("size", [(79, 200), (200, 79)])
def test_given_image_under_80_px_on_a_side_when_decoded_then_invalid_format(size):
    with pytest.raises(InvalidImageFormatException, match="minimum is 80"):
        decode(encode(Image.new("RGB", size), "PNG"))


def test_given_image_over_10000_px_on_a_side_when_decoded_then_too_large():
    with pytest.raises(ImageTooLargeException, match="maximum is 10000"):
        decode(encode(Image.new("L", (10_001, 100)), "PNG"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_given_png_header_claiming_huge_size_when_decoded_then_refused_before_decoding():
    # 60000 x 60000 RGB would be 10 GB decoded; the file is under 100 bytes
    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"")) \
        + _png_chunk(b"IEND", b"")
    with pytest.raises(ImageTooLargeException):
        decode(bomb)


def test_given_more_bytes_than_rekognition_accepts_when_decoded_then_too_large():
    with pytest.raises(ImageTooLargeException, match="MB"):
        decode(b"\xff\xd8\xff" + bytes(MAX_IMAGE_BYTES))


def test_given_truncated_jpeg_when_decoded_then_invalid_format_not_a_crash():
    data = encode(gradient(), "JPEG")
    with pytest.raises(InvalidImageFormatException, match="corrupt or truncated"):
        decode(data[: len(data) // 2])


def test_given_png_with_corrupt_pixel_data_when_decoded_then_invalid_format():
    data = bytearray(encode(gradient(), "PNG"))
    start = data.index(b"IDAT") + 8
    data[start:start + 40] = bytes(40)
    with pytest.raises(InvalidImageFormatException):
        decode(bytes(data))


def test_given_empty_bytes_when_decoded_then_invalid_format():
    with pytest.raises(InvalidImageFormatException, match="empty"):
        decode(b"")


@pytest.mark.parametrize("fmt, name", [("GIF", "GIF"), ("WEBP", "WebP"), ("BMP", "BMP"), ("TIFF", "TIFF"),
                                       ("PDF", "PDF")])
def test_given_format_pillow_can_read_but_rekognition_cannot_when_decoded_then_invalid_format(fmt, name):
    with pytest.raises(InvalidImageFormatException, match=f"{name}.*only JPEG and PNG"):
        decode(encode(gradient(), fmt))


def test_given_svg_when_decoded_then_invalid_format():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>'
    with pytest.raises(InvalidImageFormatException, match="SVG"):
        decode(svg)


def test_given_heic_container_when_decoded_then_invalid_format():
    heic_start = struct.pack(">I", 24) + b"ftypheic" + b"\x00" * 12
    with pytest.raises(InvalidImageFormatException, match="HEIC"):
        decode(heic_start)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_given_image_over_the_decoded_pixel_budget_when_decoded_then_too_large():
    with pytest.raises(ImageTooLargeException, match="pixels are decoded"):
        decode(encode(Image.new("L", (9_999, 9_999)), "PNG"))
