"""`LocalStores.upload_outcome`: what became of an upload (indexed, dead-lettered with its reason,
still running, or superseded), answered from the index and the dead letters about that object."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from autotagger.config import Settings
from autotagger.domain.documents import action_from_record, document_id, parse_record
from autotagger.local.s3_events import object_created_event
from autotagger.local.stores import LocalStores

BUCKET = "image-vaults"
KEY = "raw-image/dog.jpg"


@pytest.fixture
def stores(tmp_path):
    opened = LocalStores(Settings(data_dir=tmp_path / "data", bucket=BUCKET))
    yield opened
    opened.close()


def stream_record(stored, labels=("Dog",)) -> dict:
    """The record the workflow puts on the stream for `stored` (a StoredObject)."""
    return {"action": "upsert", "bucket": stored.bucket, "key": stored.key, "size": stored.size,
            "etag": stored.etag, "sequencer": stored.sequencer, "event_time": "2026-11-25T12:00:00Z",
            "labels": [{"Name": name, "Confidence": 97.0, "Instances": [], "Parents": [], "Aliases": [],
                        "Categories": []} for name in labels],
            "label_model_version": "test", "execution_id": "arn:aws:states:us-east-1:0:execution:m:e1"}


def index(stores, stored) -> None:
    [result] = stores.index.apply([action_from_record(parse_record(stream_record(stored)),
                                                      datetime.now(UTC))])
    assert result["status"] == "applied"


def workflow_letter(stored, error="Rekognition.InvalidImageFormatException", cause="not an image") -> str:
    event = object_created_event(stored, region="us-east-1", account="123456789012")
    return json.dumps({"event": event, "error": error, "cause": cause,
                       "execution_id": "arn:aws:states:us-east-1:0:execution:m:e1", "failed_at": "2026-11-25T12:00:01Z"})


def indexer_letter(*stored_objects) -> str:
    records = [{"sequenceNumber": str(i), "partitionKey": "p",
                "data": base64.b64encode(json.dumps(stream_record(s)).encode()).decode("ascii")}
               for i, s in enumerate(stored_objects)]
    return json.dumps({"error": "IndexUnavailable", "cause": "the index did not answer", "records": records})


def test_GIVEN_an_indexed_upload_WHEN_asked_THEN_indexed_with_its_document(stores):
    stored = stores.bucket.put(KEY, b"jpeg", "image/jpeg")
    index(stores, stored)

    outcome = stores.upload_outcome(BUCKET, KEY)

    assert (outcome["status"], outcome["id"], outcome["sequencer"]) == ("indexed", document_id(BUCKET, KEY),
                                                                        stored.sequencer)
    assert outcome["document"]["tags"] == ["Dog"]


def test_GIVEN_an_upload_the_workflow_dead_lettered_WHEN_asked_THEN_dead_lettered_with_the_reason(stores):
    stored = stores.bucket.put(KEY, b"jpeg", "image/jpeg")
    message_id = stores.workflow_dlq.send(workflow_letter(stored))

    outcome = stores.upload_outcome(BUCKET, KEY)

    assert outcome["status"] == "dead_lettered"
    letter = outcome["dead_letter"]
    assert (letter["message_id"], letter["queue"]) == (message_id, stores.workflow_dlq.name)
    assert (letter["reason"]["error"], letter["reason"]["cause"]) == ("Rekognition.InvalidImageFormatException",
                                                                      "not an image")


def test_GIVEN_an_upload_whose_record_the_indexer_dead_lettered_WHEN_asked_THEN_dead_lettered_by_the_indexer(stores):
    other = stores.bucket.put("raw-image/other.jpg", b"other", "image/jpeg")
    stored = stores.bucket.put(KEY, b"jpeg", "image/jpeg")
    message_id = stores.indexer_dlq.send(indexer_letter(other, stored))

    outcome = stores.upload_outcome(BUCKET, KEY)

    assert (outcome["status"], outcome["dead_letter"]["message_id"]) == ("dead_lettered", message_id)
    assert outcome["dead_letter"]["reason"]["error"] == "IndexUnavailable"
    assert stores.upload_outcome(BUCKET, "raw-image/other.jpg")["status"] == "dead_lettered"


def test_GIVEN_an_upload_neither_indexed_nor_dead_lettered_WHEN_asked_THEN_running(stores):
    stores.bucket.put(KEY, b"jpeg", "image/jpeg")

    assert stores.upload_outcome(BUCKET, KEY)["status"] == "running"


def test_GIVEN_a_dead_letter_of_an_older_upload_WHEN_the_key_is_uploaded_again_THEN_the_new_upload_is_running(stores):
    first = stores.bucket.put(KEY, b"not an image", "image/jpeg")
    stores.workflow_dlq.send(workflow_letter(first))
    stores.bucket.put(KEY, b"jpeg", "image/jpeg")

    assert stores.upload_outcome(BUCKET, KEY)["status"] == "running"
    assert stores.upload_outcome(BUCKET, KEY, first.sequencer)["status"] == "dead_lettered"


def test_GIVEN_an_upload_replaced_before_it_was_indexed_WHEN_asked_about_it_THEN_superseded(stores):
    first = stores.bucket.put(KEY, b"one", "image/jpeg")
    second = stores.bucket.put(KEY, b"two", "image/jpeg")
    index(stores, second)

    assert stores.upload_outcome(BUCKET, KEY, first.sequencer)["status"] == "superseded"
    assert stores.upload_outcome(BUCKET, KEY)["status"] == "indexed"


def test_GIVEN_an_upload_whose_key_was_deleted_WHEN_asked_about_it_THEN_superseded(stores):
    stored = stores.bucket.put(KEY, b"one", "image/jpeg")
    stores.bucket.delete(KEY)

    assert stores.upload_outcome(BUCKET, KEY, stored.sequencer)["status"] == "superseded"


def test_GIVEN_a_redriven_dead_letter_WHEN_asked_THEN_the_upload_is_no_longer_dead_lettered(stores):
    stored = stores.bucket.put(KEY, b"jpeg", "image/jpeg")
    message_id = stores.workflow_dlq.send(workflow_letter(stored))

    stores.workflow_dlq.remove(message_id)

    assert stores.upload_outcome(BUCKET, KEY)["status"] == "running"


@pytest.mark.parametrize("bucket, key", [(BUCKET, "never/uploaded.jpg"), ("another-bucket", KEY)])
def test_GIVEN_no_such_object_WHEN_asked_THEN_there_is_no_outcome(stores, bucket, key):
    stores.bucket.put(KEY, b"jpeg", "image/jpeg")

    assert stores.upload_outcome(bucket, key) is None
