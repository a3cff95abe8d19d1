"""Crash windows the SIGKILL tests hit only by chance, reproduced exactly: the state a kill leaves
between two durable steps is rebuilt on disk, then the pipeline is started on it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from autotagger.local.stores import RUNTIME_DB

from .conftest import settle_and_check, upload
from .fast_labeler import small_png
from .invariant import Ledger


def _crash_before_the_outbox_row_was_deleted(data_dir, execution) -> None:
    """The execution ended (its dead letter or record is stored), but the process died before
    removing the execution from the outbox: the row is back, as the kill left it."""
    with closing(sqlite3.connect(data_dir / RUNTIME_DB)) as conn, conn:
        conn.execute("INSERT INTO pending_executions (name, input, attempt, created_at) VALUES (?, ?, 0, ?)",
                     (execution["name"], json.dumps(execution["input"]), execution["start_date"]))


def test_GIVEN_a_dead_letter_stored_but_its_outbox_row_left_by_a_crash_WHEN_restarted_THEN_still_one_dead_letter(
        make_pipeline, tmp_path):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "window/bad.png", b"no image")
    settle_and_check(pipeline, ledger)
    (execution,) = [pipeline.get_execution(e["name"]) for e in pipeline.list_executions()]
    pipeline.close()
    _crash_before_the_outbox_row_was_deleted(tmp_path / "data", execution)

    restarted = make_pipeline()

    report = settle_and_check(restarted, ledger)
    assert report.dead_lettered == ["window/bad.png"]


def test_GIVEN_a_record_stored_but_its_outbox_row_left_by_a_crash_WHEN_restarted_THEN_the_image_is_indexed_once(
        make_pipeline, tmp_path, fast_labeler):
    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "window/good.png", small_png(1))
    settle_and_check(pipeline, ledger)
    (execution,) = [pipeline.get_execution(e["name"]) for e in pipeline.list_executions()]
    pipeline.close()
    _crash_before_the_outbox_row_was_deleted(tmp_path / "data", execution)

    restarted = make_pipeline()

    report = settle_and_check(restarted, ledger)
    assert report.indexed == ["window/good.png"] and restarted.index.search(limit=0)["total"] == 1


def test_GIVEN_a_delete_stored_but_its_event_lost_to_a_crash_WHEN_reconciled_THEN_the_document_is_gone(
        make_pipeline, tmp_path):
    from autotagger.reprocess import reconcile_local

    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "window/deleted.png", small_png(2))
    settle_and_check(pipeline, ledger)
    pipeline.stores.bucket.delete("window/deleted.png")  # the kill came right after the delete committed
    pipeline.close()
    restarted = make_pipeline()
    assert restarted.delete("window/deleted.png") is None  # the client's retry: nothing left to delete, no event
    ledger.deleted("window/deleted.png")

    repaired = reconcile_local(restarted, rate=1000)

    assert repaired.deleted == ["window/deleted.png"]
    assert settle_and_check(restarted, ledger).deleted == ["window/deleted.png"]


def test_GIVEN_an_object_stored_but_never_run_because_of_a_crash_WHEN_reconciled_THEN_it_is_indexed(
        make_pipeline, tmp_path):
    from autotagger.reprocess import reconcile_local

    pipeline, ledger = make_pipeline(), Ledger()
    pipeline.stores.bucket.put("window/orphan.png", small_png(3))  # stored; the kill came before its outbox row
    ledger.uploaded("window/orphan.png", small_png(3))              # in the bucket: the invariant owes it an outcome

    repaired = reconcile_local(pipeline, rate=1000)

    assert repaired.tagged == ["window/orphan.png"]
    assert settle_and_check(pipeline, ledger).indexed == ["window/orphan.png"]


def test_GIVEN_a_consistent_data_dir_WHEN_reconciled_twice_THEN_nothing_runs(make_pipeline):
    from autotagger.reprocess import reconcile_local

    pipeline, ledger = make_pipeline(), Ledger()
    upload(pipeline, ledger, "window/fine.png", small_png(4))
    upload(pipeline, ledger, "window/bad.png", b"no image")
    settle_and_check(pipeline, ledger)

    repaired = reconcile_local(pipeline, rate=1000)

    assert (repaired.tagged, repaired.deleted) == ([], [])
