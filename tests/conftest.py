"""Fixtures shared across test folders. Add new ones below; keep existing ones unchanged."""

from __future__ import annotations

import threading

import pytest

from autotagger.errors import InvalidImageFormatException

# The smallest byte strings the instant labeler tells apart by their magic numbers.
TINY_PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
TINY_JPEG = b"\xff\xd8\xff\xe0" + b"pixels"


class InstantLabeler:
    """A `ports.Labeler` that answers at once, by magic number: a PNG is a Cat, a JPEG a Dog,
    anything else is not an image (InvalidImageFormatException, as Rekognition says).
    Set `gate` to an Event to hold every call until it is set."""

    def __init__(self):
        self.calls = 0
        self.gate: threading.Event | None = None

    def detect_labels(self, image_bytes, max_labels=100, min_confidence=55.0):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if image_bytes.startswith(TINY_PNG[:8]):
            name = "Cat"
        elif image_bytes.startswith(TINY_JPEG[:3]):
            name = "Dog"
        else:
            raise InvalidImageFormatException("Request has invalid image format")
        parents = ["Mammal", "Animal"]
        labels = [{"Name": name, "Confidence": 97.5, "Instances": [], "Parents": [{"Name": p} for p in parents],
                   "Aliases": [], "Categories": [{"Name": "Animals and Pets"}]}]
        labels += [{"Name": p, "Confidence": 97.5, "Instances": [], "Parents": [], "Aliases": [], "Categories": []}
                   for p in parents]
        return {"Labels": labels[:max_labels], "LabelModelVersion": "instant-1"}


@pytest.fixture
def instant_labeler() -> InstantLabeler:
    return InstantLabeler()


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
