"""Sample photos for the end-to-end benchmark: the colour photos bundled with scikit-image and
scikit-learn (no download), plus flipped/cropped variants so N distinct images can be uploaded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina",
                  "immunohistochemistry", "camera", "coins")


@dataclass(frozen=True)
class Photo:
    name: str  # file name, ends in .jpg
    data: bytes


def _base_photos() -> list[tuple[str, np.ndarray]]:
    from skimage import data as skdata
    from sklearn.datasets import load_sample_images

    photos = []
    for name in SKIMAGE_PHOTOS:
        photos.append((name, getattr(skdata, name)()))
    samples = load_sample_images()
    for filename, image in zip(samples.filenames, samples.images, strict=True):
        photos.append((Path(filename).stem, image))
    return [(name, _rgb(image)) for name, image in photos]


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def _variant(image: np.ndarray, index: int) -> np.ndarray:
    """0: as is, 1: mirrored, 2: centre crop 80 %, 3: mirrored centre crop 70 %, then repeats with
    a one-pixel shift so every variant's bytes differ."""
    kind, shift = index % 4, index // 4
    if kind in (1, 3):
        image = image[:, ::-1]
    if kind in (2, 3):
        keep = 0.8 if kind == 2 else 0.7
        h, w = image.shape[:2]
        top, left = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
        image = image[top:h - top, left:w - left]
    if shift:
        image = image[shift:, shift:]
    return np.ascontiguousarray(image)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def sample_photos(count: int) -> list[Photo]:
    """`count` distinct JPEG photos, cycling through the bundled photos and their variants."""
    bases = _base_photos()
    photos = []
    for i in range(count):
        name, image = bases[i % len(bases)]
        variant = i // len(bases)
        photos.append(Photo(f"{name}-{variant:02d}.jpg", jpeg(_variant(image, variant))))
    return photos


def write_photos(photos: list[Photo], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for photo in photos:
        path = directory / photo.name
        path.write_bytes(photo.data)
        paths.append(path)
    return paths


def read_photos(directory: Path) -> list[Photo]:
    return [Photo(path.name, path.read_bytes()) for path in sorted(directory.glob("*.jpg"))]
