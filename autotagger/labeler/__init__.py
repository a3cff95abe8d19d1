"""Labelers: something that answers like Rekognition's DetectLabels (port: autotagger.ports.Labeler).

`get_labeler("local")` runs EfficientNet-Lite0 + CenterNet on onnxruntime (models from
`autotagger models build`); `get_labeler("rekognition")` calls AWS. Each is built once per process
and shared: loading models is the expensive part, and both are safe to call from many threads.

The other analyses have one local implementation each, built once per process the same way:
`get_text_detector()` (Tesseract, port: autotagger.ports.TextDetector) and
`get_moderation_detector()` (NudeNet, port: autotagger.ports.ModerationDetector).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from autotagger.config import LABELERS
from autotagger.ports import Labeler, ModerationDetector, TextDetector

_instances: dict[tuple, Labeler] = {}
_analysers: dict[str, Any] = {}
_lock = threading.Lock()


def get_labeler(name: str = "local", rules_path: str | Path | None = None, concurrent_callers: int = 1) -> Labeler:
    """The process-wide labeler `name`, with the user rules file at `rules_path` (local only), for
    `concurrent_callers` calls at once (local: the cores are split between them; 1: each call gets all)."""
    from autotagger.errors import UserError

    if name not in LABELERS:
        raise UserError(f"unknown labeler {name!r} (choose from {', '.join(LABELERS)})")
    rules_key = str(Path(rules_path).expanduser().resolve()) if rules_path else None
    if name == "rekognition" and rules_key:
        raise UserError("a rules file applies to the local labeler only")
    key: tuple = (name, rules_key)
    if name == "local":
        from autotagger.labeler.onnx_session import intra_op_threads
        from autotagger.models import model_dir

        key += (str(model_dir()), intra_op_threads(concurrent_callers))
    with _lock:
        if key not in _instances:
            if name == "local":
                from autotagger.labeler.local import LocalLabeler
                from autotagger.labeler.rules import load_rules

                _instances[key] = LocalLabeler(rules=load_rules(rules_key), concurrent_callers=concurrent_callers)
            else:
                from autotagger.labeler.rekognition import RekognitionLabeler

                _instances[key] = RekognitionLabeler()
        return _instances[key]


def get_text_detector() -> TextDetector:
    """The process-wide local text detector (Tesseract: each call runs its own process)."""
    with _lock:
        if "text" not in _analysers:
            from autotagger.labeler.text import TesseractTextDetector

            _analysers["text"] = TesseractTextDetector()
        return _analysers["text"]


def get_moderation_detector(concurrent_callers: int = 1) -> ModerationDetector:
    """The process-wide local moderation detector for `concurrent_callers` calls at once."""
    from autotagger.labeler.onnx_session import intra_op_threads

    key = f"moderation/{intra_op_threads(concurrent_callers)}"
    with _lock:
        if key not in _analysers:
            from autotagger.labeler.moderation import NudeNetModerationDetector

            _analysers[key] = NudeNetModerationDetector(concurrent_callers=concurrent_callers)
        return _analysers[key]


def clear_cache() -> None:
    """Forgets the shared instances (tests; after `models build` in a long-running process)."""
    with _lock:
        _instances.clear()
        _analysers.clear()
