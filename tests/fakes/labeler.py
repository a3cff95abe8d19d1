"""`ports.Labeler` in memory: answers at once, like DetectLabels, by the image's magic number."""

from __future__ import annotations

import threading
import time
from typing import Any

from autotagger.errors import InvalidImageFormatException

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class FakeLabeler:
    """A PNG is a `png` (Cat), a JPEG a `jpeg` (Dog), each with `parents` (also labels themselves);
    anything else is not an image (InvalidImageFormatException, as Rekognition says).

    `error`: raised by every call instead. `hold_s`: each call takes that long. `gate`: set it to
    an Event to hold every call until it is set. Records each call's (bytes, max_labels,
    min_confidence) in `calls` and the most calls ever running at once in `peak`. Thread-safe.
    """

    def __init__(self, *, model_version: str | None = "fake-1", png: str = "Cat", jpeg: str = "Dog",
                 parents: tuple[str, ...] = ("Animal",), error: Exception | None = None, hold_s: float = 0.0):
        self.model_version = model_version
        self.names = {PNG_MAGIC: png, JPEG_MAGIC: jpeg}
        self.parents = parents
        self.error = error
        self.hold_s = hold_s
        self.gate: threading.Event | None = None
        self.calls: list[tuple[bytes, int, float]] = []
        self.peak = 0
        self._running = 0
        self._lock = threading.Lock()

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        with self._lock:
            self.calls.append((image_bytes, max_labels, min_confidence))
            self._running += 1
            self.peak = max(self.peak, self._running)
        try:
            if self.gate is not None:
                self.gate.wait(10)
            if self.hold_s:
                time.sleep(self.hold_s)
        finally:
            with self._lock:
                self._running -= 1
        if self.error is not None:
            raise self.error
        name = next((n for magic, n in self.names.items() if image_bytes.startswith(magic)), None)
        if name is None:
            raise InvalidImageFormatException("Request has invalid image format")
        labels = [{"Name": name, "Confidence": 97.5, "Instances": [], "Parents": [{"Name": p} for p in self.parents],
                   "Aliases": [], "Categories": [{"Name": "Animals and Pets"}]}]
        labels += [{"Name": p, "Confidence": 97.5, "Instances": [], "Parents": [], "Aliases": [], "Categories": []}
                   for p in self.parents]
        return {"Labels": labels[:max_labels], "LabelModelVersion": self.model_version}
