"""`ports.ModerationDetector` in memory: answers at once, like DetectModerationLabels."""

from __future__ import annotations

import threading
from typing import Any

from autotagger.errors import InvalidImageFormatException, InvalidParameterException
from tests.fakes.labeler import JPEG_MAGIC, PNG_MAGIC


class FakeModerationDetector:
    """Every PNG or JPEG carries `labels` (Rekognition-shaped dicts, parents included as given);
    the answer keeps those at or above `min_confidence`, like Rekognition. Anything else is not an
    image (InvalidImageFormatException). By default an image is safe: no labels.

    `error`: raised by every call instead. Records each call's (bytes, min_confidence) in `calls`.
    """

    def __init__(self, *, labels: tuple[dict[str, Any], ...] = (), model_version: str = "fake-moderation-1",
                 error: Exception | None = None):
        self.labels = labels
        self.model_version = model_version
        self.error = error
        self.calls: list[tuple[bytes, float]] = []
        self._lock = threading.Lock()

    def detect_moderation_labels(self, image_bytes: bytes, min_confidence: float = 50.0) -> dict[str, Any]:
        with self._lock:
            self.calls.append((image_bytes, min_confidence))
        if self.error is not None:
            raise self.error
        if not 0 <= min_confidence <= 100:
            raise InvalidParameterException(f"MinConfidence must be between 0 and 100, got {min_confidence!r}.")
        if not image_bytes.startswith((PNG_MAGIC, JPEG_MAGIC)):
            raise InvalidImageFormatException("Request has invalid image format")
        return {"ModerationLabels": [dict(label) for label in self.labels if label["Confidence"] >= min_confidence],
                "ModerationModelVersion": self.model_version}
