"""An in-memory pipeline behind `autotagger.server.backend.PipelineBackend`, for route tests."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from autotagger.ports import StoredObject
from autotagger.server import create_app
from tests.fakes import FakeImageIndex


class MemoryPipeline:
    bucket_name = "image-vaults"

    def __init__(self):
        self.index = FakeImageIndex()
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.deleted: list[str] = []
        self.executions: dict[str, dict[str, Any]] = {}
        self.letters: dict[str, list[dict[str, Any]]] = {"workflow": [], "indexer": []}
        self.redrive_calls: list[Any] = []
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

    def list_executions(self, status=None, limit=50):
        found = [e for e in self.executions.values() if status in (None, e["status"])]
        return found[:limit]

    def get_execution(self, execution_id):
        for execution in self.executions.values():
            if execution_id in (execution["arn"], execution["name"]):
                return execution
        return None

    def dead_letters(self, limit=100):
        return {name: letters[:limit] for name, letters in self.letters.items()}

    def redrive(self, message_ids=None):
        self.redrive_calls.append(message_ids)
        known = {m["message_id"] for letters in self.letters.values() for m in letters}
        wanted = message_ids if message_ids is not None else sorted(known)
        return {"redriven": [m for m in wanted if m in known], "not_found": [m for m in wanted if m not in known]}

    def upload_outcome(self, bucket, key, sequencer=None):
        self.outcome_calls.append((bucket, key, sequencer))
        return self.outcomes.get((bucket, key))

    def summary(self):
        return {"images_indexed": self.index.count(), "executions": {"SUCCEEDED": 1},
                "stream_records_pending": 0, "dead_letters": {"workflow": 0, "indexer": 0}}


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
