"""In-process pipelines with the fast labeler, a recording workflow sleeper and quick stream
retries, for the robustness tests; and the invariant check on them."""

from __future__ import annotations

import threading

import pytest

from autotagger.config import Settings
from tests.fakes import FakeLabeler, fake_analysers

from .invariant import Ledger, assert_invariant, wait_settled


class RecordingSleeper:
    """The workflow's Retry sleeper: records each requested wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)


@pytest.fixture
def fast_labeler() -> FakeLabeler:
    return FakeLabeler(model_version="fast-1")


@pytest.fixture
def sleeper() -> RecordingSleeper:
    return RecordingSleeper()


@pytest.fixture
def make_pipeline(tmp_path, fast_labeler, sleeper):
    """Builds started pipelines on tmp_path/data; closes whatever a test left open."""
    from autotagger.local.runtime import Pipeline

    opened = []

    def make(faults=None, consumer_options=None, **settings):
        settings.setdefault("workers", 2)
        options = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "backoff_jitter": False,
                   **(consumer_options or {})}
        pipeline = Pipeline(Settings(data_dir=tmp_path / "data", **settings), labeler=fast_labeler,
                            consumer_options=options, faults=faults, sleeper=sleeper, **fake_analysers())
        opened.append(pipeline)
        return pipeline.start()

    yield make
    for pipeline in opened:
        pipeline.close()


def settle_and_check(pipeline, ledger: Ledger):
    assert pipeline.wait_idle(timeout=60), "the pipeline did not go idle"
    assert wait_settled(pipeline.stores, timeout=30), "accepted work is left over"
    return assert_invariant(pipeline.stores, ledger)


def upload(pipeline, ledger: Ledger, key: str, body: bytes, content_type: str = "application/octet-stream"):
    stored = pipeline.upload(key, body, content_type)
    ledger.uploaded(key, body)
    return stored
