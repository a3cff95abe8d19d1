"""Photos with signs painted on them, and where the letters are, for the OCR tests."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

EVALUATION_PHOTOS = Path(__file__).parent.parent / "labeler" / "evaluation_photos.json"
SIGN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # Debian fonts-dejavu-core


def photo_paths() -> dict[str, Path]:
    """Every photo of the evaluation set by name, where its package installs it."""
    import skimage
    import sklearn

    roots = {"skimage": Path(skimage.__file__).parent, "sklearn": Path(sklearn.__file__).parent}
    photos = json.loads(EVALUATION_PHOTOS.read_text(encoding="utf-8"))["photos"]
    return {p["name"]: Path(p["path"]) if p.get("debian") else roots[p["python"]] / p["path"] for p in photos}


def draw_sign(photo: Path, text: str, at: tuple[float, float], *, ink=(10, 40, 120), plate=(250, 250, 245),
              exif_orientation: int | None = None) -> tuple[bytes, dict[str, float]]:
    """The photo as a JPEG with a sign painted on it: `text` (lines split by \\n) in DejaVu Sans
    Bold, a fourteenth of the photo's height, on a plate, its top-left corner at `at` (ratios).
    Returns the JPEG and where the letters are (a Rekognition BoundingBox, ratios of the upright
    photo). With `exif_orientation` 6 the pixels are stored turned a quarter left and the EXIF
    tag says to turn them back, as a phone held upright saves them."""
    image = Image.open(photo).convert("RGB")
    width, height = image.size
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(SIGN_FONT, max(height // 14, 16))
    left, top = int(width * at[0]), int(height * at[1])
    box = draw.multiline_textbbox((left, top), text, font=font)
    margin = max(4, (box[3] - box[1]) // (4 * (text.count("\n") + 1)))
    draw.rectangle((box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin), fill=plate)
    draw.multiline_text((left, top), text, font=font, fill=ink)
    out = io.BytesIO()
    if exif_orientation == 6:
        exif = Image.Exif()
        exif[0x0112] = 6
        image.transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=90, exif=exif.tobytes())
    else:
        image.save(out, "JPEG", quality=90)
    return out.getvalue(), {"Left": box[0] / width, "Top": box[1] / height, "Width": (box[2] - box[0]) / width,
                            "Height": (box[3] - box[1]) / height}


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """Intersection over union of two BoundingBoxes."""
    width = min(a["Left"] + a["Width"], b["Left"] + b["Width"]) - max(a["Left"], b["Left"])
    height = min(a["Top"] + a["Height"], b["Top"] + b["Height"]) - max(a["Top"], b["Top"])
    inter = max(width, 0.0) * max(height, 0.0)
    return inter / (a["Width"] * a["Height"] + b["Width"] * b["Height"] - inter)
