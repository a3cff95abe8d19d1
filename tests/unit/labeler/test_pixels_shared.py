"""The labeler and the Normalize step turn a picture into the same 8-bit RGB (autotagger/pixels.py).

They once had a conversion each, and differed on wide grey: Normalize divided every "I" picture by
256, so one holding 8-bit values would have come out black where the labeler kept it grey (latent:
Pillow 12 decodes no format Normalize accepts to "I"; 16-bit PNGs open as "I;16", alike in both).
"""

import io

import numpy as np
import pytest
from PIL import Image

from autotagger.labeler.images import decode
from autotagger.normalize.images import normalize
from autotagger.pixels import to_rgb


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def grey_16(value: int) -> Image.Image:
    return Image.fromarray(np.full((120, 160), value, dtype=np.uint16))


def test_given_32_bit_picture_holding_8_bit_values_when_converted_then_its_brightness_is_kept():
    image = Image.fromarray(np.full((120, 160), 200, dtype=np.int32), "I")
    assert to_rgb(image).getpixel((3, 3)) == (200, 200, 200)


@pytest.mark.parametrize("value", [0, 12000, 32768, 65535])
def test_given_16_bit_grey_png_when_labeler_decodes_and_normalize_converts_then_both_see_the_same_grey(value):
    data = png(grey_16(value))
    labeler = decode(data).image.getpixel((5, 5))
    # the derivative is a JPEG: a flat grey survives it within a level or two
    derivative = Image.open(io.BytesIO(normalize(data).jpeg)).convert("RGB").getpixel((5, 5))
    expected = round(value * 255 / 65535)
    assert all(abs(c - expected) <= 1 for c in labeler)
    assert all(abs(c - expected) <= 2 for c in derivative)


def test_given_transparent_png_when_converted_then_on_white():
    image = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    assert to_rgb(image).getpixel((1, 1)) == (255, 255, 255)
