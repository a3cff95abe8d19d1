"""The invariant harness itself: it passes a healthy run and names each kind of violation."""

from __future__ import annotations

import json

from autotagger.domain.documents import document_id

from .conftest import upload
from .fast_labeler import small_png
from .invariant import Ledger, check, wait_settled


def _settled(pipeline):
    assert pipeline.wait_idle(timeout=30) and wait_settled(pipeline.stores)


def test_GIVEN_good_bad_and_overwritten_uploads_WHEN_checked_THEN_no_violation_and_each_outcome_counted(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "ok.png", small_png(1))
    upload(pipeline, ledger, "bad.png", b"not an image")
    upload(pipeline, ledger, "twice.png", small_png(2))
    _settled(pipeline)
    upload(pipeline, ledger, "twice.png", small_png(3))
    _settled(pipeline)

    report = check(pipeline.stores, ledger)

    assert report.violations == []
    assert (sorted(report.indexed), report.dead_lettered, report.superseded) == (["ok.png", "twice.png"], ["bad.png"], 1)


def test_GIVEN_a_document_removed_behind_the_pipelines_back_WHEN_checked_THEN_the_upload_is_reported_lost(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "lost.png", small_png(4))
    _settled(pipeline)
    stored = pipeline.stores.bucket.head("lost.png")
    pipeline.index.apply([{"action": "delete", "id": document_id("image-vaults", "lost.png"),
                           "sequencer": stored.sequencer + "0", "key": "lost.png", "bucket": "image-vaults",
                           "event_time": "2026-11-25T12:00:00Z"}])

    violations = check(pipeline.stores, ledger).violations

    assert len(violations) == 1 and "was lost" in violations[0]


def test_GIVEN_a_second_dead_letter_for_one_upload_WHEN_checked_THEN_a_duplicate_is_reported(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "dup.png", b"not an image")
    _settled(pipeline)
    pipeline.stores.workflow_dlq.send(pipeline.stores.workflow_dlq.list()[0].body)

    violations = check(pipeline.stores, ledger).violations

    assert len(violations) == 1 and "2 dead letters" in violations[0]


def test_GIVEN_a_dead_letter_without_a_reason_WHEN_checked_THEN_it_is_reported(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "mute.png", b"not an image")
    _settled(pipeline)
    letter = pipeline.stores.workflow_dlq.list()[0]
    body = json.loads(letter.body)
    pipeline.stores.workflow_dlq.remove(letter.message_id)
    pipeline.stores.workflow_dlq.send(json.dumps({**body, "cause": ""}))

    violations = check(pipeline.stores, ledger).violations

    assert len(violations) == 1 and "no readable reason" in violations[0]


def test_GIVEN_an_acknowledged_upload_whose_run_never_ended_WHEN_checked_THEN_it_is_reported(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "v.png", small_png(5))
    _settled(pipeline)
    ledger.uploaded("v.png", small_png(6))  # acknowledged, but never stored: a lost write

    violations = check(pipeline.stores, ledger).violations

    assert len(violations) == 1 and "never ended" in violations[0]


def test_GIVEN_a_document_for_a_key_nobody_uploaded_WHEN_checked_THEN_it_is_reported(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "a.png", small_png(7))
    pipeline.upload("phantom.png", small_png(8))  # not in the ledger
    _settled(pipeline)

    violations = check(pipeline.stores, ledger).violations

    assert len(violations) == 1 and "only 1 belong to accepted keys" in violations[0]
