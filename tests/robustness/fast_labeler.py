"""Images for tests where the real model adds nothing (faults, crashes, load); they run with
`tests.fakes.FakeLabeler(model_version="fast-1")` behind the Labeler port (a PNG is a Cat)."""

from __future__ import annotations

import io


def small_png(seed: int, size: int = 96) -> bytes:
    """A valid PNG, different for every seed (so every upload has its own ETag)."""
    from PIL import Image

    image = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed // 256) % 256))
    image.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
