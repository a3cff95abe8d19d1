"""`ports.TextDetector` in memory: answers at once, like DetectText, with the lines it was given."""

from __future__ import annotations

import threading
from typing import Any

from autotagger.errors import InvalidImageFormatException
from tests.fakes.labeler import JPEG_MAGIC, PNG_MAGIC


class FakeTextDetector:
    """Every PNG or JPEG "shows" `lines` (each a string of words), one line under the other, each
    word as wide as its letters; anything else is not an image (InvalidImageFormatException, as
    Rekognition says). The answer has DetectText's shape: the LINEs first (Ids 0..), then their
    WORDs (ParentId: the LINE's Id), boxes and polygons as ratios.

    `error`: raised by every call instead. Records each call's bytes in `calls`. Thread-safe.
    """

    def __init__(self, *, lines: tuple[str, ...] = ("HARBOUR",), confidence: float = 96.0,
                 model_version: str = "fake-ocr-1", error: Exception | None = None):
        self.lines = lines
        self.confidence = confidence
        self.model_version = model_version
        self.error = error
        self.calls: list[bytes] = []
        self._lock = threading.Lock()

    def detect_text(self, image_bytes: bytes) -> dict[str, Any]:
        with self._lock:
            self.calls.append(image_bytes)
        if self.error is not None:
            raise self.error
        if not image_bytes.startswith((PNG_MAGIC, JPEG_MAGIC)):
            raise InvalidImageFormatException("Request has invalid image format")
        line_height = 1.0 / (2 * max(len(self.lines), 1))
        detections: list[dict[str, Any]] = []
        words: list[dict[str, Any]] = []
        for line_id, text in enumerate(self.lines):
            top = (2 * line_id + 0.5) * line_height
            detections.append(_detection(text, "LINE", line_id, None, 0.05, top, 0.02 * len(text), line_height,
                                         self.confidence))
            left = 0.05
            for word in text.split():
                words.append((word, line_id, left, top))
                left += 0.02 * (len(word) + 1)
        detections += [_detection(word, "WORD", len(self.lines) + i, line_id, left, top, 0.02 * len(word),
                                  line_height, self.confidence)
                       for i, (word, line_id, left, top) in enumerate(words)]
        return {"TextDetections": detections, "TextModelVersion": self.model_version}


def _detection(text: str, kind: str, detection_id: int, parent_id: int | None, left: float, top: float,
               width: float, height: float, confidence: float) -> dict[str, Any]:
    box = {"Width": width, "Height": height, "Left": left, "Top": top}
    polygon = [{"X": left, "Y": top}, {"X": left + width, "Y": top}, {"X": left + width, "Y": top + height},
               {"X": left, "Y": top + height}]
    detection: dict[str, Any] = {"DetectedText": text, "Type": kind, "Id": detection_id, "Confidence": confidence,
                                 "Geometry": {"BoundingBox": box, "Polygon": polygon}}
    if parent_id is not None:
        detection["ParentId"] = parent_id
    return detection
