"""A started local pipeline whose labeler follows Rekognition's input rules and finds a red square."""

from __future__ import annotations

import pytest

from autotagger.config import Settings
from tests.fakes import fake_analysers

from .images import RedBoxLabeler


@pytest.fixture
def labeler():
    return RedBoxLabeler()


@pytest.fixture
def pipeline(tmp_path, labeler):
    from autotagger.local.runtime import Pipeline

    with Pipeline(Settings(data_dir=tmp_path / "data", workers=2), labeler=labeler,
                  consumer_options={"backoff_base_s": 0.01, "backoff_jitter": False}, **fake_analysers()) as running:
        yield running
