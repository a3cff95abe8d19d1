"""The local event source mapping: the Kinesis Lambda event, order, partial batch responses,
bisection, retries, dead letters and checkpoints, as Lambda's event source mapping does them."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

from autotagger.local.event_source_mapping import StreamConsumer
from autotagger.local.redrive import redrive_batch
from autotagger.local.stream import LocalStream, format_sequence_number


class SimulatedCrash(BaseException):
    """Escapes the consumer like a process death would: nothing after it runs."""


def consumer_for(stream, handler, dlq, **overrides):
    options = {"batch_size": 100, "max_retries": 2, "backoff_base_s": 0.5, "backoff_max_s": 4.0, "backoff_jitter": False,
                   "sleep": lambda s: None}
    options.update(overrides)
    return StreamConsumer(stream, handler, on_failure=dlq, **options)


def decoded(event):
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


def put_on_one_shard(stream, n, key="pk-1"):
    return [stream.put_record(f"r{i}".encode(), key) for i in range(n)]


# -- the consumer: events and order ------------------------------------------------------------

def test_given_records_when_consumed_then_the_handler_gets_the_kinesis_lambda_event(stream, dlq):
    events = []
    put = stream.put_record(b'{"action": "upsert"}', "pk")
    consumer = consumer_for(stream, lambda e, c: events.append(e), dlq)

    consumer.drain(5)

    [record] = events[0]["Records"]
    assert set(record) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn",
                           "awsRegion", "eventSourceARN"}
    assert record["kinesis"] == {"kinesisSchemaVersion": "1.0", "partitionKey": "pk",
                                 "sequenceNumber": put["SequenceNumber"],
                                 "data": base64.b64encode(b'{"action": "upsert"}').decode(),
                                 "approximateArrivalTimestamp": record["kinesis"]["approximateArrivalTimestamp"]}
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventVersion"] == "1.0"
    assert record["eventID"] == f"{put['ShardId']}:{put['SequenceNumber']}"
    assert record["eventSourceARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/image-tagging"
    assert record["invokeIdentityArn"].startswith("arn:aws:iam::000000000000:role/")


def test_given_a_handler_then_its_context_is_lambda_like(stream, dlq):
    contexts = []
    stream.put_record(b"x", "pk")
    consumer = consumer_for(stream, lambda e, c: contexts.append(c), dlq, function_name="indexer-fn")

    consumer.drain(5)

    [context] = contexts
    assert context.function_name == "indexer-fn" and context.memory_limit_in_mb == 512
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:000000000000:function:indexer-fn"
    assert len(context.aws_request_id) == 36 and 0 < context.get_remaining_time_in_millis() <= 60_000


def test_given_interleaved_keys_when_consumed_in_small_batches_then_each_keys_records_arrive_in_put_order(stream, dlq):
    seen: dict[str, list[int]] = {}
    for i in range(60):
        stream.put_record(str(i).encode(), f"key-{i % 7}")

    def handler(event, context):
        for r in event["Records"]:
            seen.setdefault(r["kinesis"]["partitionKey"], []).append(int(base64.b64decode(r["kinesis"]["data"])))

    consumer_for(stream, handler, dlq, batch_size=4).drain(10)

    assert sum(len(v) for v in seen.values()) == 60
    assert all(v == sorted(v) for v in seen.values())
    assert seen["key-3"] == [i for i in range(60) if i % 7 == 3]


def test_given_batch_size_when_consumed_then_no_invocation_exceeds_it(stream, dlq):
    sizes = []
    put_on_one_shard(stream, 10)

    consumer_for(stream, lambda e, c: sizes.append(len(e["Records"])), dlq, batch_size=3).drain(5)

    assert sizes == [3, 3, 3, 1]


def test_given_a_started_consumer_when_records_are_put_then_they_are_delivered_in_the_background(stream, dlq):
    got, done = [], threading.Event()

    def handler(event, context):
        got.extend(decoded(event))
        if len(got) >= 20:
            done.set()

    consumer = consumer_for(stream, handler, dlq, batching_window_s=0.01, poll_interval_s=0.05)
    consumer.start()
    try:
        for i in range(20):
            stream.put_record(f"r{i}".encode(), f"key-{i}")
        assert done.wait(10)
    finally:
        consumer.stop()

    assert sorted(got) == sorted(f"r{i}" for i in range(20))
    assert not consumer.running and sum(consumer.pending().values()) == 0


# -- the consumer: failures --------------------------------------------------------------------

def test_given_batch_item_failures_then_checkpoint_is_before_the_first_failed_item_and_retry_starts_there(stream, dlq):
    puts = put_on_one_shard(stream, 5)
    calls = []

    def handler(event, context):
        calls.append(decoded(event))
        if len(calls) == 1:
            return {"batchItemFailures": [{"itemIdentifier": puts[3]["SequenceNumber"]},
                                          {"itemIdentifier": puts[2]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    consumer_for(stream, handler, dlq).drain(5)

    assert calls == [["r0", "r1", "r2", "r3", "r4"], ["r2", "r3", "r4"]]
    assert dlq.count() == 0


def test_given_batch_item_failures_when_the_retry_crashes_then_the_checkpoint_kept_the_succeeded_items(stream, dlq):
    puts = put_on_one_shard(stream, 4)
    shard = puts[0]["ShardId"]
    calls = []

    def handler(event, context):
        calls.append(decoded(event))
        if len(calls) == 1:
            return {"batchItemFailures": [{"itemIdentifier": puts[2]["SequenceNumber"]}]}
        raise SimulatedCrash()

    with pytest.raises(SimulatedCrash):
        consumer_for(stream, handler, dlq).run_once()

    assert stream.checkpoint("indexer", shard) == int(puts[1]["SequenceNumber"])


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"wrongKey": "x"}]},
    {"batchItemFailures": [{"itemIdentifier": format_sequence_number(999_999)}]},
])
def test_given_an_invalid_batch_item_failure_then_the_whole_batch_is_retried(stream, dlq, response):
    put_on_one_shard(stream, 3)
    calls = []

    def handler(event, context):
        calls.append(decoded(event))
        return response if len(calls) == 1 else None

    consumer_for(stream, handler, dlq, bisect_on_error=False).drain(5)

    assert calls == [["r0", "r1", "r2"], ["r0", "r1", "r2"]]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": None}, {"batchItemFailures": []}, "ok"])
def test_given_a_success_response_shape_then_the_batch_is_checkpointed(stream, dlq, response):
    puts = put_on_one_shard(stream, 2)

    consumer_for(stream, lambda e, c: response, dlq).drain(5)

    assert stream.checkpoint("indexer", puts[0]["ShardId"]) == int(puts[-1]["SequenceNumber"])


def test_given_a_poison_record_when_bisecting_then_only_it_is_dead_lettered_and_the_rest_processed(stream, dlq):
    put_on_one_shard(stream, 8)
    sizes, processed = [], []

    def handler(event, context):
        records = decoded(event)
        sizes.append(len(records))
        if "r5" in records:
            raise ValueError("cannot index r5")
        processed.extend(records)

    consumer_for(stream, handler, dlq, max_retries=1).drain(5)

    assert processed == ["r0", "r1", "r2", "r3", "r4", "r6", "r7"]
    # 8 fails; r0-r3 pass; r4-r7 fail; r4-r5 fail; r4 passes; r5 fails, is retried once; r6-r7 pass
    assert sizes == [8, 4, 4, 2, 1, 1, 1, 2]
    [letter] = dlq.list()
    body = json.loads(letter.body)
    assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"r5"]


def test_given_bisect_disabled_when_a_record_fails_then_the_whole_batch_is_retried_and_dead_lettered(stream, dlq):
    put_on_one_shard(stream, 4)
    sizes = []

    def handler(event, context):
        sizes.append(len(event["Records"]))
        raise ValueError("boom")

    consumer_for(stream, handler, dlq, bisect_on_error=False, max_retries=2).drain(5)

    assert sizes == [4, 4, 4]
    assert json.loads(dlq.list()[0].body)["KinesisBatchInfo"]["batchSize"] == 4


def test_given_a_failing_record_then_retries_are_bounded_with_exponential_backoff_and_then_dead_lettered(stream, dlq):
    put = stream.put_record(b'{"key": "dog.jpg"}', "pk-dog")
    sleeps = []

    def handler(event, context):
        raise ConnectionError("index unavailable")

    consumer = consumer_for(stream, handler, dlq, max_retries=3, sleep=sleeps.append)
    consumer.drain(5)

    assert sleeps == [0.5, 1.0, 2.0]
    assert consumer.stats[put["ShardId"]].invocations == 4
    [letter] = dlq.list()
    body = json.loads(letter.body)
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 4 and body["attempts"] == 4
    assert body["error"] == "ConnectionError" and body["cause"] == "index unavailable"
    assert body["stream"] == "image-tagging" and body["KinesisBatchInfo"]["shardId"] == put["ShardId"]
    assert body["KinesisBatchInfo"]["startSequenceNumber"] == put["SequenceNumber"]
    assert body["records"][0]["partitionKey"] == "pk-dog"
    assert base64.b64decode(body["records"][0]["data"]) == b'{"key": "dog.jpg"}'
    assert letter.attributes["condition"] == "RetryAttemptsExhausted"


def test_given_backoff_max_then_the_wait_is_capped(stream, dlq):
    stream.put_record(b"x", "pk")
    sleeps = []

    def handler(event, context):
        raise ConnectionError("down")

    consumer_for(stream, handler, dlq, max_retries=5, backoff_base_s=1.0, backoff_max_s=3.0,
                 sleep=sleeps.append).drain(5)

    assert sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_given_a_dead_lettered_record_then_the_shard_moves_on_to_the_next_records(stream, dlq):
    put_on_one_shard(stream, 3)
    processed = []

    def handler(event, context):
        records = decoded(event)
        if records == ["r0"]:
            raise ValueError("poison")
        if "r0" in records:
            raise ValueError("poison in batch")
        processed.extend(records)

    consumer_for(stream, handler, dlq, max_retries=0).drain(5)

    assert processed == ["r1", "r2"] and dlq.count() == 1


def test_given_records_older_than_max_age_then_they_are_dead_lettered_without_invoking(tmp_path, dlq, clock):
    stream = LocalStream(tmp_path / "s.sqlite3", shard_count=1, clock=clock)
    stream.put_record(b"old", "pk")
    clock.now += 120
    stream.put_record(b"new", "pk")
    invoked = []

    consumer_for(stream, lambda e, c: invoked.extend(decoded(e)), dlq, max_record_age_s=60, clock=clock).drain(5)

    assert invoked == ["new"]
    body = json.loads(dlq.list()[0].body)
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"old"]


def test_given_records_that_age_out_while_retrying_then_they_are_dead_lettered_as_expired(tmp_path, dlq, clock):
    stream = LocalStream(tmp_path / "s.sqlite3", shard_count=1, clock=clock)
    stream.put_record(b"x", "pk")

    def sleep(seconds):
        clock.now += seconds

    def handler(event, context):
        raise ConnectionError("down")

    consumer_for(stream, handler, dlq, max_retries=None, max_record_age_s=10, backoff_base_s=4.0,
                 backoff_max_s=4.0, clock=clock, sleep=sleep).drain(5)

    assert json.loads(dlq.list()[0].body)["requestContext"]["condition"] == "RecordAgeExceeded"


def test_given_a_dead_letter_send_failure_then_the_batch_is_not_checkpointed(stream, tmp_path):
    puts = put_on_one_shard(stream, 1)

    class BrokenQueue:
        def send(self, body, attributes=None):
            raise OSError("disk full")

    def handler(event, context):
        raise ValueError("poison")

    consumer = StreamConsumer(stream, handler, on_failure=BrokenQueue(), max_retries=0, sleep=lambda s: None)
    with pytest.raises(OSError):
        consumer.run_once()

    assert stream.checkpoint("indexer", puts[0]["ShardId"]) == 0


def test_given_a_stop_during_a_retry_wait_then_the_batch_is_left_for_later_not_dead_lettered(stream, dlq):
    puts = put_on_one_shard(stream, 1)
    failing = threading.Event()

    def handler(event, context):
        failing.set()
        raise ConnectionError("down")

    consumer = StreamConsumer(stream, handler, on_failure=dlq, max_retries=10, backoff_base_s=30.0,
                              backoff_jitter=False, poll_interval_s=0.05)
    consumer.start()
    assert failing.wait(5)
    started = time.monotonic()
    consumer.stop()

    assert time.monotonic() - started < 5
    assert dlq.count() == 0 and stream.checkpoint("indexer", puts[0]["ShardId"]) == 0


# -- durability --------------------------------------------------------------------------------

def test_given_a_crash_mid_stream_when_reopened_then_consumption_resumes_after_the_last_checkpoint(tmp_path, dlq):
    path = tmp_path / "s.sqlite3"
    first = LocalStream(path, shard_count=1)
    for i in range(6):
        first.put_record(f"r{i}".encode(), "pk")
    before_crash = []

    def crashing(event, context):
        if before_crash:
            raise SimulatedCrash()
        before_crash.extend(decoded(event))

    with pytest.raises(SimulatedCrash):
        consumer_for(first, crashing, dlq, batch_size=2).drain(5)
    # no close(), no further commits: the process is gone

    reopened = LocalStream(path, shard_count=1)
    after = []
    consumer_for(reopened, lambda e, c: after.extend(decoded(e)), dlq, batch_size=2).drain(5)

    assert before_crash == ["r0", "r1"]
    assert after == ["r2", "r3", "r4", "r5"]


def test_given_pending_records_then_pending_and_iterator_age_are_reported_per_shard(tmp_path, dlq, clock):
    stream = LocalStream(tmp_path / "s.sqlite3", shard_count=2, clock=clock)
    consumer = consumer_for(stream, lambda e, c: None, dlq)
    put = stream.put_record(b"x", "pk")
    clock.now += 42

    health = consumer.health()

    assert health["shards"][put["ShardId"]]["pending"] == 1
    assert health["shards"][put["ShardId"]]["iterator_age_s"] == pytest.approx(42)
    consumer.drain(5)
    assert consumer.pending() == dict.fromkeys(stream.shard_ids, 0)
    assert set(consumer.iterator_age_s().values()) == {0.0}


def test_given_consumed_records_past_retention_when_trimmed_then_only_they_are_deleted(tmp_path, dlq, clock):
    stream = LocalStream(tmp_path / "s.sqlite3", shard_count=1, clock=clock, retention_s=100)
    consumer = consumer_for(stream, lambda e, c: None, dlq, batch_size=1)
    stream.put_record(b"consumed", "pk")
    stream.put_record(b"pending", "pk")
    consumer.run_once()
    clock.now += 101

    assert stream.trim() == 1
    assert [r.data for r in stream.read("shardId-000000000000", 0, 10)] == [b"pending"]


def test_given_a_stream_dead_letter_when_redriven_then_its_records_are_back_on_the_stream(stream, dlq):
    stream.put_record(b"payload", "pk-redrive")
    attempts = []

    def handler(event, context):
        attempts.append(decoded(event))
        if len(attempts) == 1:
            raise ValueError("transient")

    consumer = consumer_for(stream, handler, dlq, max_retries=0)
    consumer.drain(5)
    [letter] = dlq.list()

    assert dlq.redrive(letter.message_id, lambda held: redrive_batch(stream, held.body)) is True
    consumer.drain(5)

    assert attempts == [["payload"], ["payload"]] and dlq.count() == 0
