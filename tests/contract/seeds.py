"""The data every contract case runs on, the same in both runtimes (a "data setup"): images
uploaded and tagged by the workflow, one corrupt image dead-lettered, one image deleted.

Each step stores (or deletes) an object, then runs the workflow on its S3 event under a chosen
execution name and event time, one after another, so both runtimes hold the same documents,
executions (in the same order) and dead letters.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.scripted_labeler import image_bytes


@dataclass(frozen=True)
class Put:
    key: str
    data: bytes
    time: str
    name: str
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class Delete:
    key: str
    time: str
    name: str


def _image(key: str, labels: dict[str, float], day: int, name: str) -> Put:
    content_type = "image/png" if key.endswith(".png") else "image/jpeg"
    return Put(key, image_bytes(labels, content_type), f"2026-11-{day:02d}T08:00:00Z", name, content_type)


# Label confidences as the scripted labeler answers them; under 55 (the workflow's MinConfidence)
# a label is not stored at all.
GALLERY = (
    _image("raw-image/gone.jpg", {"Dog": 99.0}, 19, "seed-gone"),
    _image("raw-image/dog-1.jpg", {"Dog": 98.0, "Animal": 90.0}, 20, "seed-dog-1"),
    _image("raw-image/cat-1.png", {"Cat": 96.0, "Animal": 88.0}, 21, "seed-cat-1"),
    _image("raw-image/dog-cat.jpg", {"Dog": 85.0, "Cat": 70.0, "Animal": 92.0}, 22, "seed-dog-cat"),
    _image("raw-image/dog-2.jpg", {"Dog": 60.0, "Grass": 99.0, "Shadow": 20.0}, 23, "seed-dog-2"),
    _image("raw-image/car.png", {"Car": 99.0, "Vehicle": 97.0}, 24, "seed-car"),
    Put("raw-image/corrupt.jpg", b"\xff\xd8 this is not a JPEG", "2026-11-25T08:00:00Z", "seed-corrupt"),
    Delete("raw-image/gone.jpg", "2026-11-26T08:00:00Z", "seed-gone-deleted"),
)

SETUPS = {"gallery": GALLERY}


def seed(world, setup: str) -> None:
    for step in SETUPS[setup]:
        if isinstance(step, Put):
            world.put(step.key, step.data, step.content_type, step.time, step.name)
        else:
            world.delete(step.key, step.time, step.name)


def data_of(setup: str, key: str) -> bytes:
    """The bytes the setup stored under `key` (last put)."""
    return [s.data for s in SETUPS[setup] if isinstance(s, Put) and s.key == key][-1]
