"""A fast `ports.Labeler` for tests where the real model adds nothing (faults, crashes, load).

It answers like DetectLabels, by magic number: a PNG is a Cat, a JPEG a Dog; anything else is
`Rekognition.InvalidImageFormatException`. Thread-safe call counter.
"""

from __future__ import annotations

import io
import threading

from autotagger.errors import InvalidImageFormatException

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class FastLabeler:
    model_version = "fast-1"

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def detect_labels(self, image_bytes, max_labels=100, min_confidence=55.0):
        with self._lock:
            self.calls += 1
        if image_bytes.startswith(PNG_MAGIC):
            name = "Cat"
        elif image_bytes.startswith(JPEG_MAGIC):
            name = "Dog"
        else:
            raise InvalidImageFormatException("Request has invalid image format")
        labels = [{"Name": name, "Confidence": 97.5, "Instances": [], "Parents": [{"Name": "Animal"}],
                   "Aliases": [], "Categories": [{"Name": "Animals and Pets"}]},
                  {"Name": "Animal", "Confidence": 97.5, "Instances": [], "Parents": [], "Aliases": [],
                   "Categories": []}]
        return {"Labels": labels[:max_labels], "LabelModelVersion": self.model_version}


def small_png(seed: int, size: int = 96) -> bytes:
    """A valid PNG, different for every seed (so every upload has its own ETag)."""
    from PIL import Image

    image = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed // 256) % 256))
    image.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
