"""The local Labeler: EfficientNet-Lite0 + CenterNet on onnxruntime, answering like DetectLabels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autotagger.errors import InvalidParameterException
from autotagger.labeler.classifier import Classifier
from autotagger.labeler.detector import Detector
from autotagger.labeler.images import decode
from autotagger.labeler.onnx_session import intra_op_threads
from autotagger.labeler.rules import NO_RULES, Rules
from autotagger.labeler.scoring import build_response
from autotagger.labeler.vocabulary import Vocabulary, default_vocabulary
from autotagger.models import cache


def check_parameters(max_labels: int, min_confidence: float) -> None:
    """Rekognition's own limits: MaxLabels >= 0, MinConfidence in [0, 100]."""
    if isinstance(max_labels, bool) or not isinstance(max_labels, int) or max_labels < 0:
        raise InvalidParameterException(f"MaxLabels must be a non-negative integer, got {max_labels!r}.")
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) \
            or not 0 <= min_confidence <= 100:
        raise InvalidParameterException(f"MinConfidence must be between 0 and 100, got {min_confidence!r}.")


class LocalLabeler:
    """Loads both models once; safe to share between threads (onnxruntime sessions are).

    `concurrent_callers`: how many calls the owner runs at once; the cores are split between them
    (see onnx_session.intra_op_threads)."""

    def __init__(self, model_directory: str | Path | None = None, rules: Rules = NO_RULES,
                 vocabulary: Vocabulary | None = None, concurrent_callers: int = 1):
        directory = Path(model_directory) if model_directory else cache.model_dir()
        manifest = cache.verified_models(directory)
        self.model_version = manifest["label_model_version"]
        threads = intra_op_threads(concurrent_callers)
        self.classifier = Classifier(directory / cache.CLASSIFIER_FILE, threads)
        self.detector = Detector(directory / cache.DETECTOR_FILE, threads)
        self.vocabulary = vocabulary or default_vocabulary()
        self.rules = rules

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        return self.detect_labels_many([image_bytes], max_labels, min_confidence)[0]

    def detect_labels_many(self, images: list[bytes], max_labels: int = 100,
                           min_confidence: float = 55.0) -> list[dict[str, Any]]:
        """Like detect_labels for several images, the classifier running them as one batch."""
        check_parameters(max_labels, min_confidence)
        decoded = [decode(data).image for data in images]
        probabilities = self.classifier.classify(decoded)
        return [build_response(p, self.detector.detect(image), self.vocabulary, max_labels=max_labels,
                               min_confidence=float(min_confidence), model_version=self.model_version,
                               rules=self.rules)
                for p, image in zip(probabilities, decoded, strict=True)]
