"""Shared fixtures for tests that run the real models (built by `autotagger models build`)."""

from pathlib import Path

import pytest
from labeler_photos import SAMPLE_PHOTOS

from tests.support.markers import mark_models_below


def pytest_collection_modifyitems(items):
    mark_models_below(Path(__file__).parent, items)


@pytest.fixture(scope="session")
def model_manifest():
    from autotagger.models import cache

    problems = cache.problems()
    if problems:
        pytest.fail(f"the labeler tests need the ONNX models: {'; '.join(problems)}. "
                    "Run `autotagger models build` (make test does it first).", pytrace=False)
    return cache.verified_models()


@pytest.fixture(scope="session")
def local_labeler(model_manifest):
    from autotagger.labeler.local import LocalLabeler

    return LocalLabeler(model_manifest["directory"])


@pytest.fixture(scope="session")
def photo_bytes():
    return {name: path.read_bytes() for name, path in SAMPLE_PHOTOS.items()}


@pytest.fixture(scope="session")
def sample_responses(local_labeler, photo_bytes):
    """Each sample photo labelled once at the default threshold, shared by the tests."""
    return {name: local_labeler.detect_labels(data) for name, data in photo_bytes.items()}
