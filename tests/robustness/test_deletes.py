"""Deletes: a delete removes the document; a late (stale) delete never removes a newer upload;
uploads and deletes racing on one key end with the index agreeing with the bucket."""

from __future__ import annotations

import threading

from autotagger.domain.documents import document_id
from autotagger.local.s3_events import object_deleted_event

from .conftest import settle_and_check, upload
from .fast_labeler import small_png
from .invariant import Ledger

BUCKET = "image-vaults"


def test_GIVEN_an_indexed_image_WHEN_its_object_is_deleted_THEN_the_document_is_gone(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "del/cat.png", small_png(1))
    settle_and_check(pipeline, ledger)

    pipeline.delete("del/cat.png")
    ledger.deleted("del/cat.png")

    report = settle_and_check(pipeline, ledger)
    assert report.deleted == ["del/cat.png"] and pipeline.index.get(document_id(BUCKET, "del/cat.png")) is None


def test_GIVEN_a_newer_upload_WHEN_an_older_delete_event_arrives_late_THEN_the_newer_document_stays(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "del/phoenix.png", small_png(2))
    settle_and_check(pipeline, ledger)
    deleted = pipeline.delete("del/phoenix.png")
    ledger.deleted("del/phoenix.png")
    settle_and_check(pipeline, ledger)
    newer = upload(pipeline, ledger, "del/phoenix.png", small_png(3))
    settle_and_check(pipeline, ledger)

    # EventBridge may deliver an event again, or late: the old delete runs after the newer upload.
    assert pipeline._router.publish(object_deleted_event(deleted, region="local", account="000000000000"))

    settle_and_check(pipeline, ledger)
    document = pipeline.index.get(document_id(BUCKET, "del/phoenix.png"))
    assert document is not None and document["sequencer"] == newer.sequencer


def test_GIVEN_uploads_and_deletes_racing_on_keys_WHEN_settled_THEN_a_document_exists_exactly_when_the_object_does(
        make_pipeline):
    pipeline, ledger = make_pipeline(workers=4), Ledger()
    keys = [f"race/{i}.png" for i in range(6)]

    def churn(key: str, seed: int) -> None:
        for round_ in range(4):
            upload(pipeline, ledger, key, small_png(seed * 10 + round_))
            if (seed + round_) % 2 and pipeline.delete(key) is not None:
                ledger.deleted(key)

    threads = [threading.Thread(target=churn, args=(key, i)) for i, key in enumerate(keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    report = settle_and_check(pipeline, ledger)
    for key in keys:
        exists = pipeline.stores.bucket.head(key) is not None
        assert (pipeline.index.get(document_id(BUCKET, key)) is not None) == exists, key
    assert report.superseded > 0
