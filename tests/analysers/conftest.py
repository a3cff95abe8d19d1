"""Shared fixtures for the tests that run the real local analysers (Tesseract, NudeNet): the
engines are loaded once per session, the photos are the repository's real ones
(tests/labeler/evaluation_photos.json: Debian packages and Python packages, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysers.signs import photo_paths
from tests.support.markers import mark_models_below


def pytest_collection_modifyitems(items):
    mark_models_below(Path(__file__).parent, items)


@pytest.fixture(scope="session")
def photos() -> dict[str, Path]:
    return photo_paths()


@pytest.fixture(scope="session")
def text_detector():
    from autotagger.labeler.text import TesseractTextDetector

    return TesseractTextDetector()


@pytest.fixture(scope="session")
def moderation_detector():
    from autotagger.labeler.moderation import NudeNetModerationDetector

    return NudeNetModerationDetector()
