"""An in-memory pipeline behind `autotagger.server.backend.PipelineBackend`, for route tests."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from autotagger.api.service import ReadApi
from autotagger.contracts import MODERATION_THRESHOLD
from autotagger.local.read_adapters import LocalImageUrls
from autotagger.ports import DeadLetter, StoredObject
from autotagger.server import create_app
from tests.fakes import FakeDeadLetterQueue, FakeExecutionLookup, FakeImageIndex

SECRET = b"s" * 32


class Clock:
    """A clock tests move by hand (signed URLs expire by it)."""

    def __init__(self, now: float = 1_795_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class MemoryPipeline:
    """What the server needs from a pipeline: the bucket in a dict, the read API over the fakes of
    its ports (tests/fakes) and the real URL signer on a hand-moved clock."""

    bucket_name = "image-vaults"

    def __init__(self):
        self.index = FakeImageIndex()
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.deleted: list[str] = []
        self.executions = FakeExecutionLookup()
        self.resubmitted: list[DeadLetter] = []
        self.workflow_dlq = FakeDeadLetterQueue("workflow", resubmit=self.resubmitted.append)
        self.indexer_dlq = FakeDeadLetterQueue("indexer", resubmit=self.resubmitted.append)
        self.clock = Clock()
        self.image_urls = LocalImageUrls(SECRET, self.bucket_name, clock=self.clock)
        self.read_api = ReadApi(self.index, self.executions, [self.workflow_dlq, self.indexer_dlq], self.image_urls)
        self.outcomes: dict[tuple[str, str], dict[str, Any]] = {}  # (bucket, key) -> what upload_outcome answers
        self.outcome_calls: list[tuple[str, str, str | None]] = []

    def upload(self, key, data, content_type):
        self.objects[key] = (data, content_type)
        return StoredObject(self.bucket_name, key, len(data), hashlib.md5(data).hexdigest(), "01",
                            "2026-11-25T00:00:00.000Z", content_type)

    def delete(self, key):
        self.deleted.append(key)
        return self.objects.pop(key, None) and StoredObject(self.bucket_name, key, 0, "", "02", "")

    def read_object(self, key):
        return self.objects.get(key)

    def upload_outcome(self, bucket, key, sequencer=None):
        self.outcome_calls.append((bucket, key, sequencer))
        return self.outcomes.get((bucket, key))

    def summary(self):
        return {"images_indexed": self.index.count(), "executions": {"SUCCEEDED": 1},
                "stream_records_pending": 0, "dead_letters": {"workflow": 0, "indexer": 0},
                **self.index.analysis_counts(), "moderation_threshold": MODERATION_THRESHOLD}


@pytest.fixture
def pipeline() -> MemoryPipeline:
    return MemoryPipeline()


@pytest.fixture
def client(pipeline) -> TestClient:
    with TestClient(create_app(pipeline)) as test_client:
        yield test_client


def make_document(doc_id="a" * 40, key="raw-image/dog.jpg", tags=("Dog", "Animal")) -> dict[str, Any]:
    return {"id": doc_id, "bucket": "image-vaults", "key": key, "tags": list(tags),
            "labels": [{"name": t, "confidence": 90.0, "parents": [], "categories": [], "aliases": [],
                        "instances": []} for t in tags],
            "label_model_version": "test", "size": 3, "etag": "e", "sequencer": "01",
            "event_time": "2026-11-25T00:00:00Z", "indexed_at": "2026-11-25T00:00:01Z"}


@pytest.fixture
def document_factory():
    return make_document
