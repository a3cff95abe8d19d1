"""One labeler for both runtimes: the image says which labels it shows.

A test image is a format's magic number followed by JSON `{label name: confidence}`; the labeler
answers those labels as DetectLabels does (only those at or above `MinConfidence`, at most
`MaxLabels`). Anything else is not an image (InvalidImageFormatException). The local runtime uses
it behind the Labeler port; in moto it replaces the canned Rekognition answer (`patch_moto_rekognition`),
so the same bytes get the same labels on both runtimes.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from unittest import mock

from autotagger.errors import InvalidImageFormatException
from tests.fakes import JPEG_MAGIC, PNG_MAGIC

MAGIC = {"image/jpeg": JPEG_MAGIC + b"\xe0", "image/png": PNG_MAGIC}
MODEL_VERSION = "scripted-1"


def image_bytes(labels: dict[str, float], content_type: str = "image/jpeg") -> bytes:
    return MAGIC[content_type] + json.dumps(labels, sort_keys=True).encode()


def labels_of(data: bytes) -> dict[str, float] | None:
    magic = next((m for m in MAGIC.values() if data.startswith(m)), None)
    if magic is None:
        return None
    try:
        labels = json.loads(data[len(magic):])
    except ValueError:
        return None
    return labels if isinstance(labels, dict) else None


def detect_labels_answer(data: bytes, max_labels: int, min_confidence: float) -> dict[str, Any] | None:
    """The DetectLabels answer for `data`; None when it is not an image."""
    labels = labels_of(data)
    if labels is None:
        return None
    shown = sorted(((name, c) for name, c in labels.items() if c >= min_confidence), key=lambda item: -item[1])
    return {"Labels": [{"Name": name, "Confidence": confidence, "Instances": [], "Parents": [], "Aliases": [],
                        "Categories": []} for name, confidence in shown[:max_labels]],
            "LabelModelVersion": MODEL_VERSION}


class ScriptedLabeler:
    """`ports.Labeler` for the local runtime."""

    model_version = MODEL_VERSION

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        answer = detect_labels_answer(image_bytes, max_labels, min_confidence)
        if answer is None:
            raise InvalidImageFormatException("Request has invalid image format")
        return answer


@contextlib.contextmanager
def patch_moto_rekognition(account: str, labeler: Any = None, *, text_detector: Any = None,
                           moderation_detector: Any = None):
    """moto's DetectLabels answers a canned "Mobile Phone" for any image; inside this block it reads
    the S3 object moto holds and answers as `labeler` (a `ports.Labeler`; `ScriptedLabeler` by
    default) does, with InvalidImageFormatException for what is not an image. Given a
    `ports.TextDetector` / `ports.ModerationDetector`, DetectText (canned in moto: "IT'S MONDAY but
    keep Smiling" for any image) and DetectModerationLabels (not implemented in moto 5.2) answer as
    they do, so a local world with the same fakes answers alike."""
    from moto.core.exceptions import JsonRESTError
    from moto.rekognition.responses import RekognitionResponse
    from moto.s3.models import s3_backends

    def stored_image(response: Any) -> bytes:
        location = (response._get_param("Image") or {}).get("S3Object") or {}
        stored = s3_backends[account]["global"].get_object(location.get("Bucket"), location.get("Name"))
        if stored is None:
            raise JsonRESTError("InvalidS3ObjectException", "Unable to get object metadata from S3")
        return stored.value

    def answering(call: Any) -> str:
        try:
            return json.dumps(call())
        except InvalidImageFormatException as exc:
            raise JsonRESTError("InvalidImageFormatException", str(exc)) from None

    def detect_labels(self) -> str:
        data = stored_image(self)
        return answering(lambda: (labeler or ScriptedLabeler()).detect_labels(
            data, int(self._get_param("MaxLabels") or 1000), float(self._get_param("MinConfidence") or 55)))

    def detect_text(self) -> str:
        data = stored_image(self)
        return answering(lambda: text_detector.detect_text(data))

    def detect_moderation_labels(self) -> str:
        data = stored_image(self)
        return answering(lambda: moderation_detector.detect_moderation_labels(
            data, float(self._get_param("MinConfidence") or 50)))

    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(RekognitionResponse, "detect_labels", detect_labels))
        if text_detector is not None:
            patches.enter_context(mock.patch.object(RekognitionResponse, "detect_text", detect_text))
        if moderation_detector is not None:
            patches.enter_context(mock.patch.object(RekognitionResponse, "detect_moderation_labels",
                                                    detect_moderation_labels, create=True))
        yield
