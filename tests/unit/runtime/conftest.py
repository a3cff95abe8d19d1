"""A started pipeline on a temporary data dir, with the instant labeler (tests/conftest.py)."""

from __future__ import annotations

import pytest

from autotagger.config import Settings


@pytest.fixture
def labeler(instant_labeler):
    return instant_labeler


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", workers=2)


@pytest.fixture
def make_pipeline(settings, labeler):
    """Builds pipelines (not started) and closes whichever a test left open."""
    from autotagger.local.runtime import Pipeline

    opened = []

    def make(**options):
        options.setdefault("labeler", labeler)
        options.setdefault("consumer_options", {"backoff_base_s": 0.01, "backoff_jitter": False})
        pipeline = Pipeline(options.pop("settings", settings), **options)
        opened.append(pipeline)
        return pipeline

    yield make
    for pipeline in opened:
        pipeline.close()


@pytest.fixture
def pipeline(make_pipeline):
    with make_pipeline() as running:
        yield running


class PeakCountingLabeler:
    """Holds each call for 50 ms and records how many calls ever ran at once (`peak`)."""

    def __init__(self):
        import threading

        self.peak = 0
        self._running = 0
        self._lock = threading.Lock()

    def detect_labels(self, image_bytes, max_labels=100, min_confidence=55.0):
        import time

        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)
        time.sleep(0.05)  # long enough for concurrent callers to overlap
        with self._lock:
            self._running -= 1
        return {"Labels": [], "LabelModelVersion": "slow"}


@pytest.fixture
def peak_counting_labeler():
    return PeakCountingLabeler()
