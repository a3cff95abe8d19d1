"""One conversion of any decoded picture to 8-bit RGB, shared by the labeler and the Normalize step.

Pillow only (the Normalize Lambda's asset carries Pillow, not numpy), so both runtimes see the
same pixels: a photo the labeler decodes directly and the derivative Normalize writes for it agree.
"""

from __future__ import annotations

from PIL import Image

_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB; transparent images on white; wide grey (16-bit, or 32-bit "I") scaled to 8 bits by its
    range, not clipped: 65535 for a 16-bit mode or values above 255, else 255 (an "I" image that
    holds 8-bit values keeps its brightness)."""
    if image.mode in _WIDE_GREY:
        # getextrema() of one band is (lowest, highest); only an "I" picture needs it looked at
        wide = image.mode.startswith("I;16") or float(image.getextrema()[1]) > 255  # type: ignore[arg-type]
        peak = 65535 if wide else 255
        image = image.point(lambda value: value * (255 / peak)).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")
