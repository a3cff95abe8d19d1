"""Test photos made with Pillow (+ pillow-heif): a white scene with one red square whose place
in the *upright* picture is known, stored in any format, sideways with any EXIF orientation."""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

RED_BOX = {"left": 0.1, "top": 0.2, "width": 0.25, "height": 0.4}  # upright, relative
# The transpose that undoes each EXIF orientation (ImageOps.exif_transpose) has this inverse.
_STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
          7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}
SAVE_AS = {"jpeg": "JPEG", "png": "PNG", "heic": "HEIF", "webp": "WEBP", "avif": "AVIF", "gif": "GIF"}


def upright_scene(width: int = 320, height: int = 240) -> Image.Image:
    image = Image.new("RGB", (width, height), (255, 255, 255))
    box = (int(RED_BOX["left"] * width), int(RED_BOX["top"] * height),
           int((RED_BOX["left"] + RED_BOX["width"]) * width), int((RED_BOX["top"] + RED_BOX["height"]) * height))
    image.paste((220, 0, 0), box)
    return image


def photo(fmt: str, orientation: int = 1, size: tuple[int, int] = (320, 240), *, frames: int = 1,
          scene: Image.Image | None = None, **save: object) -> bytes:
    """The scene stored as `fmt` so that applying `orientation` shows it upright."""
    upright = scene or upright_scene(*size)
    stored = upright.transpose(_STORE[orientation]) if _STORE[orientation] is not None else upright
    out = io.BytesIO()
    options: dict[str, object] = dict(save)
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if frames > 1:
        others = [Image.new("RGB", stored.size, (0, 0, 40 * n)) for n in range(1, frames)]  # distinct: kept
        options.update(save_all=True, append_images=others)
    stored.save(out, SAVE_AS[fmt], **options)
    return out.getvalue()


def noise_jpeg(width: int, height: int, quality: int = 95) -> bytes:
    """A JPEG of random pixels: incompressible, so its size in bytes is large for its pixel count."""
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


def red_box(image: Image.Image) -> dict[str, float] | None:
    """Where the red square is, relative to `image` (what a person sees); None without one."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    ys, xs = np.nonzero(red)
    if not len(xs):
        return None
    height, width = red.shape
    return {"left": xs.min() / width, "top": ys.min() / height,
            "width": (xs.max() + 1 - xs.min()) / width, "height": (ys.max() + 1 - ys.min()) / height}


class RedBoxLabeler:
    """A `ports.Labeler` with Rekognition's input rules (autotagger.labeler.images: JPEG/PNG by
    content, EXIF orientation applied, size limits) that finds the red square: one `Red Square`
    label whose instance box is where a person sees it. Counts calls per image format."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict:
        from autotagger.labeler.images import decode

        decoded = decode(image_bytes)
        self.calls.append(decoded.format)
        box = red_box(decoded.image)
        if box is None:
            return {"Labels": [], "LabelModelVersion": "red-box-1"}
        instance = {"Confidence": 99.0, "BoundingBox": {"Width": box["width"], "Height": box["height"],
                                                        "Left": box["left"], "Top": box["top"]}}
        return {"Labels": [{"Name": "Red Square", "Confidence": 99.0, "Instances": [instance], "Parents": [],
                            "Aliases": [], "Categories": []}], "LabelModelVersion": "red-box-1"}
