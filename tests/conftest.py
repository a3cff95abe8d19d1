"""Fixtures shared across test folders. Add new ones below; keep existing ones unchanged."""

from __future__ import annotations

import pytest

from tests.fakes import JPEG_MAGIC, PNG_MAGIC, FakeLabeler

# The smallest byte strings the instant labeler tells apart by their magic numbers.
TINY_PNG = PNG_MAGIC + b"pixels"
TINY_JPEG = JPEG_MAGIC + b"\xe0" + b"pixels"


@pytest.fixture
def instant_labeler() -> FakeLabeler:
    """A `ports.Labeler` that answers at once: a PNG is a Cat, a JPEG a Dog (parents Mammal, Animal),
    anything else is not an image. Set `gate` to an Event to hold every call until it is set."""
    return FakeLabeler(model_version="instant-1", parents=("Mammal", "Animal"))


@pytest.fixture
def tiny_png() -> bytes:
    return TINY_PNG


@pytest.fixture
def tiny_jpeg() -> bytes:
    return TINY_JPEG


@pytest.fixture(scope="session")
def osmem_server():
    """osmem-server (PyPI): an in-memory server speaking the OpenSearch REST API, on loopback.

    One per test session (it overrides the plugin's fixture: no seed data, no Japanese analysis,
    so it starts fast); tests that write take `clone()`s or their own index names. It is not
    OpenSearch: tests on it check what the adapters send and how they read the answers.
    """
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()


@pytest.fixture
def lambda_context():
    """The `context` a Python Lambda handler receives: the local event source mapping's own
    stand-in, the very object the runtime passes the indexer handler."""
    from autotagger.local.lambda_context import LambdaContext

    return LambdaContext("autotagger-indexer", region="us-east-1", account="123456789012")
