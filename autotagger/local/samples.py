"""Sample photos for a first look: `autotagger serve --seed-samples` (what `make run` does).

The photos are the public-domain / CC0 ones that ship inside scikit-image and scikit-learn, so
seeding needs no network. They go through the pipeline like any upload: stored, tagged by the
workflow, indexed; the dashboard shows their tags as soon as each execution ends.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from autotagger.contracts import MEDIA_TYPE_BY_SUFFIX

# (package, path inside the package, object key)
SAMPLE_FILES = [
    ("skimage", "data/astronaut.png", "samples/astronaut.png"),
    ("skimage", "data/chelsea.png", "samples/chelsea.png"),
    ("skimage", "data/coffee.png", "samples/coffee.png"),
    ("skimage", "data/rocket.jpg", "samples/rocket.jpg"),
    ("skimage", "data/motorcycle_left.png", "samples/motorcycle.png"),
    ("sklearn", "datasets/images/china.jpg", "samples/china.jpg"),
    ("sklearn", "datasets/images/flower.jpg", "samples/flower.jpg"),
]


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def sample_photos() -> Iterator[tuple[str, bytes, str]]:
    """Yields (key, bytes, content type) for each sample photo installed on this machine."""
    for package, relative, key in SAMPLE_FILES:
        root = _package_dir(package)
        if root is None or not (root / relative).is_file():
            continue
        yield key, (root / relative).read_bytes(), MEDIA_TYPE_BY_SUFFIX[Path(relative).suffix]


def seed(pipeline) -> list[str]:
    """Uploads the sample photos into an empty bucket; returns the keys it uploaded.

    A bucket that already holds objects is left alone, so restarting `make run` never duplicates
    work or overwrites what a person uploaded.
    """
    if any(True for _ in pipeline.stores.bucket.list()):
        return []
    uploaded = []
    for key, data, content_type in sample_photos():
        pipeline.upload(key, data, content_type)
        uploaded.append(key)
    return uploaded
