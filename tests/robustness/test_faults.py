"""Faults injected behind the ports: each ends per the invariant, with the retries the ASL, the
stream consumer or the indexer's partial batch response prescribe, as seen in execution histories
and consumer statistics."""

from __future__ import annotations

import json

import pytest

from autotagger.contracts import STREAM_NAME
from autotagger.domain.documents import document_id
from autotagger.faults import FaultPlan, FaultSpecError, parse_spec

from .conftest import settle_and_check, upload
from .fast_labeler import small_png
from .invariant import Ledger

BUCKET = "image-vaults"


def _history(pipeline, key: str) -> list[dict]:
    """The events of the one execution that ran for `key`."""
    runs = [pipeline.get_execution(e["name"]) for e in pipeline.list_executions(limit=1000)]
    runs = [r for r in runs if r["input"]["detail"]["object"]["key"] == key]
    assert len(runs) == 1, f"{len(runs)} executions for {key!r}"
    return runs[0]["history"]


def _task_attempts(history: list[dict], resource: str) -> list[str]:
    """'ok' or the error name, for every attempt of the Task calling `resource` (e.g. detectLabels)."""
    outcomes = []
    for event in history:
        details = event.get("taskFailedEventDetails") or event.get("taskSucceededEventDetails")
        if details and details.get("resource") == resource:
            outcomes.append(details.get("error") or "ok")
    return outcomes


def _letter(pipeline, key: str) -> dict:
    letters = [m for m in pipeline.dead_letters(limit=1000)["workflow"] if m["body"]["event"]["detail"]["object"]["key"] == key]
    assert len(letters) == 1
    return letters[0]


# -- the labeler --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, error", [
    ("labeler.throttle=3", "Rekognition.ThrottlingException"),
    ("labeler.internal=2", "Rekognition.InternalServerError"),
])
def test_GIVEN_a_labeler_failing_its_first_calls_WHEN_uploading_THEN_the_asl_retries_them_and_the_image_is_indexed(
        make_pipeline, sleeper, spec, error):
    failures = parse_spec(spec).calls
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse([spec])), Ledger()

    upload(pipeline, ledger, "faults/cat.png", small_png(1))

    report = settle_and_check(pipeline, ledger)
    assert report.indexed == ["faults/cat.png"]
    assert _task_attempts(_history(pipeline, "faults/cat.png"), "detectLabels") == [error] * failures + ["ok"]
    # The ASL's Retry: 1 s doubling, full jitter, so each wait is at most 1, 2, 4, ... seconds.
    assert len(sleeper.waits) == failures and all(w <= 2 ** i for i, w in enumerate(sleeper.waits))


def _throttling_retrier() -> dict:
    from autotagger.local.runtime import state_machine_path

    # DetectLabels is one branch of the Analyze Parallel state (beside DetectText and DetectModerationLabels)
    [analyze] = [state for state in json.loads(state_machine_path().read_text())["States"].values()
                 if state["Type"] == "Parallel" and any("DetectLabels" in b["States"] for b in state["Branches"])]
    [labels] = [branch for branch in analyze["Branches"] if "DetectLabels" in branch["States"]]
    retry = labels["States"]["DetectLabels"]["Retry"]
    return next(r for r in retry if "Rekognition.ThrottlingException" in r["ErrorEquals"])


def test_GIVEN_a_labeler_throttling_longer_than_the_retries_WHEN_uploading_THEN_a_dead_letter_after_the_last_attempt(
        make_pipeline, sleeper):
    retrier = _throttling_retrier()
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse(["labeler.throttle=1000"])), Ledger()

    upload(pipeline, ledger, "faults/throttled.png", small_png(2))

    report = settle_and_check(pipeline, ledger)
    assert report.dead_lettered == ["faults/throttled.png"]
    # The first call and MaxAttempts retries (130: rides out a burst, see docs/robustness.md).
    assert retrier["MaxAttempts"] == 130
    assert _task_attempts(_history(pipeline, "faults/throttled.png"), "detectLabels") == \
        ["Rekognition.ThrottlingException"] * (retrier["MaxAttempts"] + 1)
    # Capped backoff with full jitter: no wait beyond MaxDelaySeconds, and together they last long.
    assert max(sleeper.waits) <= retrier["MaxDelaySeconds"] and sum(sleeper.waits) > 45 * 60
    assert _letter(pipeline, "faults/throttled.png")["reason"]["error"] == "Rekognition.ThrottlingException"


def test_GIVEN_a_labeler_failing_for_good_WHEN_uploading_THEN_one_attempt_and_a_dead_letter_with_the_reason(
        make_pipeline):
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse(["labeler.fail"])), Ledger()

    upload(pipeline, ledger, "faults/denied.png", small_png(3))

    report = settle_and_check(pipeline, ledger)
    assert report.dead_lettered == ["faults/denied.png"]
    assert _task_attempts(_history(pipeline, "faults/denied.png"), "detectLabels") == \
        ["Rekognition.AccessDeniedException"]
    letter = _letter(pipeline, "faults/denied.png")
    assert letter["reason"]["error"] == "Rekognition.AccessDeniedException" and "AccessDenied" in letter["reason"]["cause"]


# -- the stream -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, error", [
    ("stream.throttle=2", "Kinesis.ProvisionedThroughputExceededException"),
    ("stream.internal=1", "Kinesis.InternalFailureException"),
])
def test_GIVEN_stream_puts_failing_WHEN_uploading_THEN_putrecord_is_retried_and_the_image_is_indexed(
        make_pipeline, spec, error):
    failures = parse_spec(spec).calls
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse([spec])), Ledger()

    upload(pipeline, ledger, "faults/stream.png", small_png(4))

    report = settle_and_check(pipeline, ledger)
    assert report.indexed == ["faults/stream.png"]
    assert _task_attempts(_history(pipeline, "faults/stream.png"), "putRecord") == [error] * failures + ["ok"]


def test_GIVEN_the_stream_refusing_puts_for_good_WHEN_uploading_THEN_a_dead_letter_and_no_record(make_pipeline):
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse(["stream.fail"])), Ledger()

    upload(pipeline, ledger, "faults/no-stream.png", small_png(5))

    report = settle_and_check(pipeline, ledger)
    assert report.dead_lettered == ["faults/no-stream.png"]
    assert _letter(pipeline, "faults/no-stream.png")["reason"]["error"] == "Kinesis.AccessDeniedException"
    assert sum(pipeline.stores.stream.pending("nobody-reads-this").values()) == 0  # nothing reached the stream


# -- the index --------------------------------------------------------------------------------

def test_GIVEN_the_index_down_for_its_first_writes_WHEN_uploading_THEN_records_wait_and_are_indexed_after_recovery(
        make_pipeline):
    plan = FaultPlan.parse(["index.down=4"])
    pipeline, ledger = make_pipeline(faults=plan, consumer_options={"max_retries": 10}), Ledger()

    for i in range(3):
        upload(pipeline, ledger, f"faults/down-{i}.png", small_png(10 + i))

    report = settle_and_check(pipeline, ledger)
    assert sorted(report.indexed) == [f"faults/down-{i}.png" for i in range(3)]
    assert plan.injected() == {"index.down=4": 4}
    retried = sum(s.retries + s.bisections for s in pipeline._consumer.stats.values())
    assert retried >= 4 and pipeline.stores.indexer_dlq.count() == 0


def test_GIVEN_the_index_down_for_a_while_WHEN_uploading_THEN_records_are_retried_with_backoff_until_it_is_back(
        make_pipeline):
    plan = FaultPlan.parse(["index.down=300ms"])
    pipeline, ledger = make_pipeline(faults=plan, consumer_options={"max_retries": 200}), Ledger()

    upload(pipeline, ledger, "faults/outage.png", small_png(20))

    report = settle_and_check(pipeline, ledger)
    assert report.indexed == ["faults/outage.png"]
    assert plan.injected()["index.down=0.3s"] >= 1
    assert pipeline.stores.indexer_dlq.count() == 0


def test_GIVEN_an_index_down_longer_than_the_retries_WHEN_uploading_THEN_the_record_is_an_indexer_dead_letter(
        make_pipeline):
    pipeline, ledger = make_pipeline(faults=FaultPlan.parse(["index.down"]), consumer_options={"max_retries": 2}), Ledger()

    upload(pipeline, ledger, "faults/never.png", small_png(21))

    report = settle_and_check(pipeline, ledger)
    assert report.dead_lettered == ["faults/never.png"]
    reason = pipeline.dead_letters()["indexer"][0]["reason"]
    assert (reason["error"], reason["cause"]) == ("IndexUnavailable", "injected fault index.down: the index is unreachable")


class CountingIndex:
    """Passes writes to the real index and counts how often each document id was written."""

    def __init__(self, inner):
        self.inner, self.writes = inner, {}

    def apply(self, actions):
        for action in actions:
            self.writes[action["id"]] = self.writes.get(action["id"], 0) + 1
        return self.inner.apply(actions)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _record(key: str, sequencer: str) -> bytes:
    return json.dumps({"action": "upsert", "bucket": BUCKET, "key": key, "size": 10, "etag": "e" * 32,
                       "sequencer": sequencer, "event_time": "2026-11-25T12:00:00Z",
                       "labels": [{"Name": "Cat", "Confidence": 90.0, "Instances": [], "Parents": [], "Aliases": [],
                                   "Categories": []}],
                       "label_model_version": "fast-1", "execution_id": "arn:aws:states:local:0:execution:x:y"}).encode()


def test_GIVEN_a_bulk_write_with_failed_items_WHEN_consumed_THEN_items_before_the_first_failure_are_written_once_and_the_failed_ones_retried(
        tmp_path):
    from autotagger.index import open_index
    from autotagger.local.dlq import LocalDeadLetterQueue
    from autotagger.local.event_source_mapping import StreamConsumer
    from autotagger.local.stream import LocalStream
    from autotagger.stream_indexer import make_handler

    stream = LocalStream(tmp_path / "stream.db", STREAM_NAME, shard_count=1)
    keys = [f"bulk/{i}.png" for i in range(6)]
    stream.put_records([(_record(key, f"{i + 1:018X}"), key) for i, key in enumerate(keys)])
    counting = CountingIndex(open_index(tmp_path / "index.db"))
    plan = FaultPlan.parse(["index.partial=1"])
    dlq = LocalDeadLetterQueue(tmp_path / "dlq.db", "indexer-dlq")
    faulty = plan.wrap("index", counting)
    consumer = StreamConsumer(stream, make_handler(lambda: faulty), on_failure=dlq, batching_window_s=0,
                              backoff_base_s=0.01, backoff_jitter=False)
    assert consumer.drain(timeout_s=30)
    ids = [document_id(BUCKET, key) for key in keys]
    # The first bulk write failed items 1, 3, 5; the stream retries from item 1 (Kinesis semantics).
    assert counting.writes[ids[0]] == 1
    assert all(counting.inner.get(doc_id) for doc_id in ids) and dlq.count() == 0
    assert consumer.stats["shardId-000000000000"].retries == 1


# -- specs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["labeler", "labeler.explode=3", "disk.down", "index.down=soon", "labeler.slow",
                                  "labeler.throttle"])
def test_GIVEN_a_malformed_fault_spec_WHEN_parsed_THEN_a_user_error_names_the_fix(spec):
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


def test_GIVEN_a_fault_on_the_command_line_WHEN_tagging_THEN_the_retries_show_in_the_json_and_the_image_is_tagged(
        tmp_path, monkeypatch, capsys):
    """`autotagger tag --fault labeler.throttle=1` (the real ASL retry: about a second)."""
    import autotagger.labeler as labeler_module
    from tests.fakes import FakeLabeler

    monkeypatch.setattr(labeler_module, "get_labeler", lambda *a, **k: FakeLabeler(model_version="fast-1"))
    image = tmp_path / "cat.png"
    image.write_bytes(small_png(30))
    from autotagger.cli import main

    code = main(["tag", str(image), "--data-dir", str(tmp_path / "data"), "--json", "--fault", "labeler.throttle=1"])

    assert code == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "tagged"
