"""A started pipeline on a temporary data dir, with the instant labeler (tests/conftest.py)."""

from __future__ import annotations

import pytest

from autotagger.config import Settings
from tests.fakes import FakeLabeler, fake_analysers


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
        pipeline = Pipeline(options.pop("settings", settings), **{**fake_analysers(), **options})
        opened.append(pipeline)
        return pipeline

    yield make
    for pipeline in opened:
        pipeline.close()


@pytest.fixture
def pipeline(make_pipeline):
    with make_pipeline() as running:
        yield running


@pytest.fixture
def peak_counting_labeler():
    """Holds each call for 50 ms (long enough for concurrent callers to overlap); `peak` is how
    many calls ever ran at once."""
    return FakeLabeler(hold_s=0.05)
