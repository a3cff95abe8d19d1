"""The local runtime end to end with an instant labeler: uploads end indexed or dead-lettered."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC

import pytest

from autotagger.domain.documents import document_id
from autotagger.errors import UserError
from autotagger.local.stores import RUNTIME_DB

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"  # what the instant labeler calls a Cat
JPEG = b"\xff\xd8\xff\xe0" + b"pixels"  # and a Dog


def _doc(pipeline, key):
    return pipeline.index.get(document_id(pipeline.bucket_name, key))


def test_GIVEN_a_png_WHEN_uploaded_THEN_its_labels_are_searchable_by_tag(pipeline):
    pipeline.upload("raw-image/cat.png", PNG, "image/png")

    assert pipeline.wait_idle(10)
    found = pipeline.index.search(tags=["Cat"])
    assert [d["key"] for d in found["images"]] == ["raw-image/cat.png"]


def test_GIVEN_an_upload_WHEN_tagged_THEN_the_execution_succeeded_with_its_history(pipeline):
    pipeline.upload("cat.png", PNG, "image/png")
    pipeline.wait_idle(10)

    [execution] = pipeline.list_executions()
    detail = pipeline.get_execution(execution["name"])
    assert detail["status"] == "SUCCEEDED"
    assert [e["type"] for e in detail["history"]][0] == "ExecutionStarted"


def test_GIVEN_bytes_that_are_no_image_WHEN_uploaded_THEN_a_dead_letter_says_what_they_are(pipeline):
    pipeline.upload("broken.jpg", b"not really a jpeg", "image/jpeg")
    pipeline.wait_idle(10)

    [letter] = pipeline.dead_letters()["workflow"]
    # Rekognition refused it, so Normalize read its content: no image format at all
    assert letter["reason"]["error"] == "UnsupportedImageFormat"
    assert "unrecognised data" in letter["reason"]["cause"]
    assert letter["body"]["event"]["detail"]["object"]["key"] == "broken.jpg"


def test_GIVEN_bytes_that_are_no_image_WHEN_uploaded_THEN_the_execution_failed_in_Normalize(pipeline):
    pipeline.upload("broken.jpg", b"not really a jpeg", "image/jpeg")
    pipeline.wait_idle(10)

    [execution] = pipeline.list_executions(status="FAILED")
    detail = pipeline.get_execution(execution["arn"])
    assert (detail["error"], detail["failed_state"]) == ("UnsupportedImageFormat", "Normalize")


def test_GIVEN_a_key_that_is_not_an_image_name_WHEN_uploaded_THEN_the_dead_letter_says_unsupported_type(
        pipeline, labeler):
    pipeline.upload("notes.txt", PNG, "application/octet-stream")
    pipeline.wait_idle(10)

    [letter] = pipeline.dead_letters()["workflow"]
    assert letter["reason"]["error"] == "Autotagger.UnsupportedObjectType" and labeler.calls == []


def test_GIVEN_an_indexed_image_WHEN_deleted_THEN_its_document_leaves_the_index(pipeline):
    pipeline.upload("cat.png", PNG, "image/png")
    pipeline.wait_idle(10)

    pipeline.delete("cat.png")
    pipeline.wait_idle(10)

    assert pipeline.index.search()["total"] == 0


def test_GIVEN_a_key_uploaded_twice_WHEN_tagged_THEN_one_document_holds_the_newest_labels(pipeline):
    pipeline.upload("pet.png", PNG, "image/png")
    pipeline.upload("pet.png", JPEG, "image/jpeg")
    pipeline.wait_idle(10)

    found = pipeline.index.search()
    assert found["total"] == 1 and "Dog" in found["images"][0]["tags"] and "Cat" not in found["images"][0]["tags"]


def test_GIVEN_good_and_bad_uploads_WHEN_all_done_THEN_indexed_plus_dead_lettered_equals_uploads(pipeline):
    for i in range(12):
        pipeline.upload(f"img-{i}.png", PNG if i % 3 else b"garbage", "image/png")
    pipeline.wait_idle(20)

    summary = pipeline.summary()
    assert summary["images_indexed"] + summary["dead_letters"]["workflow"] == 12
    assert summary["images_indexed"] == 8


def test_GIVEN_a_workflow_dead_letter_WHEN_redriven_THEN_a_new_execution_runs_the_original_event(pipeline, labeler):
    pipeline.upload("later.png", b"garbage", "image/png")
    pipeline.wait_idle(10)
    [letter] = pipeline.dead_letters()["workflow"]
    pipeline.stores.bucket.put("later.png", PNG, "image/png")  # fixed in place, without a new event

    outcome = pipeline.redrive([letter["message_id"]])
    pipeline.wait_idle(10)

    assert outcome == {"redriven": [letter["message_id"]], "not_found": []}
    assert _doc(pipeline, "later.png")["tags"].count("Cat") == 1


def test_GIVEN_a_redriven_message_WHEN_redriven_again_THEN_only_one_run_starts(pipeline):
    pipeline.upload("bad.png", b"garbage", "image/png")
    pipeline.wait_idle(10)
    [letter] = pipeline.dead_letters()["workflow"]

    pipeline.redrive([letter["message_id"]])
    second = pipeline.redrive([letter["message_id"]])
    pipeline.wait_idle(10)

    redriven_runs = [e for e in pipeline.list_executions() if e["name"].startswith("redrive-")]
    assert second["not_found"] == [letter["message_id"]] and len(redriven_runs) == 1


def test_GIVEN_an_unknown_message_id_WHEN_redriving_THEN_it_is_reported_not_found(pipeline):
    assert pipeline.redrive(["nope"]) == {"redriven": [], "not_found": ["nope"]}


class FlakyIndex:
    """An ImageIndex that answers every write with a retryable error until healed."""

    def __init__(self, inner):
        self.inner = inner
        self.healed = False

    def apply(self, actions):
        if self.healed:
            return self.inner.apply(actions)
        return [{"id": a["id"], "status": "error", "error": "index unavailable"} for a in actions]

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_GIVEN_an_indexer_dead_letter_WHEN_redriven_THEN_the_record_is_indexed(make_pipeline, settings):
    from autotagger.index import open_index

    index = FlakyIndex(open_index(settings.data_dir / "flaky-index.sqlite3"))
    with make_pipeline(index=index, consumer_options={"max_retries": 0, "backoff_base_s": 0.01}) as pipeline:
        pipeline.upload("cat.png", PNG, "image/png")
        pipeline.wait_idle(10)
        [letter] = pipeline.dead_letters()["indexer"]
        index.healed = True

        pipeline.redrive([letter["message_id"]])
        pipeline.wait_idle(10)

        assert _doc(pipeline, "cat.png")["tags"].count("Cat") == 1 and pipeline.dead_letters()["indexer"] == []


def test_GIVEN_an_accepted_upload_whose_run_a_crash_interrupted_WHEN_restarted_THEN_it_is_tagged(
        make_pipeline, settings):
    from autotagger.local.s3_events import object_created_event

    with make_pipeline() as first:
        stored = first.stores.bucket.put("cat.png", PNG, "image/png")
    event = object_created_event(stored, region="us-east-1", account="000000000000")
    with sqlite3.connect(settings.data_dir / RUNTIME_DB) as conn:  # what the crashed process had persisted
        conn.execute("INSERT INTO pending_executions (name, input, attempt, created_at) VALUES (?, ?, 0, 'x')",
                     (event["id"], json.dumps(event)))

    with make_pipeline() as second:
        assert second.wait_idle(10)
        assert _doc(second, "cat.png")["tags"].count("Cat") == 1
        assert [e["name"] for e in second.list_executions()] == [event["id"] + "-r1"]


def test_GIVEN_an_execution_left_running_by_a_crash_WHEN_restarted_THEN_it_is_marked_aborted(make_pipeline):
    from datetime import datetime

    from autotagger.workflow import Execution

    with make_pipeline() as first:
        arn = first.stores.execution_arn("crashed")
        orphan = Execution(arn=arn, name="crashed", state_machine_arn="arn:sm", input={},
                           start_date=datetime.now(UTC))
        first.stores.executions.on_event(orphan, {"id": 1, "previousEventId": 0, "type": "ExecutionStarted",
                                                  "timestamp": datetime.now(UTC),
                                                  "executionStartedEventDetails": {"input": "{}"}})

    with make_pipeline() as second:
        assert second.get_execution("crashed")["status"] == "ABORTED"


def test_GIVEN_a_running_pipeline_WHEN_another_opens_the_same_data_dir_THEN_a_user_error_says_it_is_in_use(
        pipeline, make_pipeline):
    with pytest.raises(UserError, match="in use"):
        make_pipeline()


def test_GIVEN_a_labeler_that_blocks_WHEN_waiting_for_idle_THEN_it_gives_up_at_the_timeout(pipeline, labeler):
    import threading

    labeler.gate = threading.Event()
    pipeline.upload("slow.png", PNG, "image/png")
    try:
        assert pipeline.wait_idle(0.2) is False
    finally:
        labeler.gate.set()
    assert pipeline.wait_idle(10) is True


def test_GIVEN_metrics_disabled_WHEN_the_indexer_ran_many_batches_THEN_nothing_was_printed_to_stdout(
        pipeline, capfd):
    from autotagger.local.lambda_context import LambdaContext
    from autotagger.local.stream import StreamRecord

    record = json.dumps({"action": "delete", "bucket": "image-vaults", "key": "gone.png", "sequencer": "01",
                         "event_time": "2026-11-25T00:00:00Z", "execution_id": "arn:x"}).encode()
    event = pipeline._consumer.build_event([StreamRecord(1, "shardId-000000000000", "k", record, 0.0)])
    for _ in range(120):  # Powertools prints a metric set on its own once a metric holds 100 values
        pipeline._consumer.handler(event, LambdaContext("indexer", region="local", account="0"))

    assert capfd.readouterr().out == ""


def test_GIVEN_good_and_bad_uploads_WHEN_summarised_THEN_executions_are_counted_per_status(pipeline):
    for i in range(5):
        pipeline.upload(f"count-{i}.png", PNG if i < 3 else b"garbage", "image/png")
    pipeline.wait_idle(10)

    assert pipeline.summary()["executions"] == {"RUNNING": 0, "SUCCEEDED": 3, "FAILED": 2, "TIMED_OUT": 0,
                                                "ABORTED": 0}


def test_GIVEN_a_redrive_that_ran_but_did_not_remove_its_message_WHEN_redriven_again_THEN_no_second_run(pipeline):
    pipeline.upload("twice.png", b"garbage", "image/png")
    pipeline.wait_idle(10)
    [letter] = pipeline.dead_letters()["workflow"]

    from autotagger.local.redrive import rerun_dead_letter

    def run_then_crash(message):
        rerun_dead_letter(message, pipeline.start_execution)
        raise RuntimeError("crashed before removing the message")

    with pytest.raises(RuntimeError):
        pipeline.stores.workflow_dlq.redrive(letter["message_id"], run_then_crash)
    pipeline.wait_idle(10)
    pipeline.redrive([letter["message_id"]])
    pipeline.wait_idle(10)

    assert len([e for e in pipeline.list_executions() if e["name"].startswith("redrive-")]) == 1
    # only the one re-run's own failure is left; the original message is gone
    remaining = pipeline.dead_letters()["workflow"]
    assert [m["reason"]["error"] for m in remaining] == ["UnsupportedImageFormat"]
    assert remaining[0]["message_id"] != letter["message_id"]


def test_GIVEN_one_worker_WHEN_uploads_queue_up_THEN_the_labeler_runs_one_call_at_a_time(
        make_pipeline, tmp_path, peak_counting_labeler):
    from autotagger.config import Settings

    with make_pipeline(settings=Settings(data_dir=tmp_path / "one", workers=1),
                       labeler=peak_counting_labeler) as pipeline:
        for i in range(4):
            pipeline.upload(f"q-{i}.png", PNG, "image/png")
        assert pipeline.wait_idle(10)

    assert peak_counting_labeler.peak == 1


def test_GIVEN_a_pipeline_with_several_workers_WHEN_started_THEN_its_labeler_is_built_for_that_many_callers(
        make_pipeline, settings, instant_labeler, monkeypatch):
    import autotagger.labeler

    asked = []

    def get_labeler(name="local", rules_path=None, concurrent_callers=1):
        asked.append(concurrent_callers)
        return instant_labeler

    monkeypatch.setattr(autotagger.labeler, "get_labeler", get_labeler)
    with make_pipeline(labeler=None):
        pass
    assert asked == [settings.workers]


def test_GIVEN_two_pipelines_in_one_process_WHEN_one_is_closed_THEN_each_indexed_into_its_own_index_throughout(
        make_pipeline, tmp_path):
    """The indexer handler is wired per pipeline: no process-wide index a second pipeline could
    take over, and none that closing one pipeline could unhook from the other."""
    from autotagger.config import Settings

    first = make_pipeline(settings=Settings(data_dir=tmp_path / "first", workers=1)).start()
    second = make_pipeline(settings=Settings(data_dir=tmp_path / "second", workers=1)).start()
    first.upload("first.png", PNG, "image/png")
    second.upload("second.png", PNG, "image/png")
    assert first.wait_idle(10) and second.wait_idle(10)
    assert ([d["key"] for d in first.index.search()["images"]],
            [d["key"] for d in second.index.search()["images"]]) == (["first.png"], ["second.png"])

    second.close()
    first.upload("after.png", PNG, "image/png")

    assert first.wait_idle(10)
    assert sorted(d["key"] for d in first.index.search()["images"]) == ["after.png", "first.png"]
    assert first.stores.indexer_dlq.count() == 0
