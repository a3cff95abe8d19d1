"""Lambda's Kinesis event source mapping, run locally: reads a `LocalStream`, invokes a handler.

`StreamConsumer` does what the event source mapping does, because the indexer handler is the same
code on AWS and here: one batch at a time per shard, in order; the event is the exact Kinesis
Lambda event; `batchItemFailures` checkpoints before the first failed item and retries from it; a
failed invocation bisects the batch (splits do not use up retries); `max_retries` and
`max_record_age_s` bound the retries, and then the records go to the on-failure destination with
what went wrong and the record data, and the shard moves on. Checkpoints live in the stream, so
after a crash consumption resumes after the last checkpoint (at-least-once).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autotagger.local.lambda_context import LambdaContext
from autotagger.local.stream import LocalStream, StreamRecord
from autotagger.ports import DeadLetters

log = logging.getLogger(__name__)


class ConsumerStopped(Exception):
    """Raised inside a batch when `stop()` interrupts a retry wait; the batch is left unprocessed
    (not checkpointed), so it is processed again on the next start."""


@dataclass
class _Outcome:
    ok: bool
    failed_from: int | None = None  # index of the first failed item (partial batch response)
    error: str = ""
    cause: str = ""


@dataclass
class ShardStats:
    invocations: int = 0
    records_succeeded: int = 0
    records_dead_lettered: int = 0
    retries: int = 0
    bisections: int = 0


class StreamConsumer:
    """Lambda's Kinesis event source mapping, run locally: reads `stream` and invokes `handler`."""

    def __init__(
        self,
        stream: LocalStream,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        on_failure: DeadLetters,
        name: str = "indexer",
        function_name: str = "autotagger-indexer",
        batch_size: int = 100,
        batching_window_s: float = 0.2,
        bisect_on_error: bool = True,
        max_retries: int | None = 5,
        max_record_age_s: float | None = None,
        report_batch_item_failures: bool = True,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        backoff_jitter: bool = True,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        context_factory: Callable[[], Any] | None = None,
        poll_interval_s: float = 0.5,
        invoke_timeout_s: float = 60.0,
        memory_limit_in_mb: int = 512,
    ):
        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch_size must be 1..10000")
        if max_retries is not None and max_retries < -1:
            raise ValueError("max_retries must be -1 or None (retry until the record expires) or >= 0")
        if on_failure is None:
            raise ValueError("on_failure is required: records that exhaust their retries go there, never nowhere")
        self.stream = stream
        self.handler = handler
        self.on_failure = on_failure
        self.name = name
        self.function_name = function_name
        self.function_arn = f"arn:aws:lambda:{stream.region}:{stream.account}:function:{function_name}"
        self.batch_size = batch_size
        self.batching_window_s = batching_window_s
        self.bisect_on_error = bisect_on_error
        self.max_retries = None if max_retries in (None, -1) else max_retries
        self.max_record_age_s = max_record_age_s
        self.report_batch_item_failures = report_batch_item_failures
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.backoff_jitter = backoff_jitter
        self.poll_interval_s = poll_interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._sleep = sleep or self._interruptible_sleep
        self._context_factory = context_factory or (
            lambda: LambdaContext(
                function_name,
                region=stream.region,
                account=stream.account,
                memory_limit_in_mb=memory_limit_in_mb,
                timeout_s=invoke_timeout_s,
            )
        )
        self._shard_locks = {shard_id: threading.Lock() for shard_id in stream.shard_ids}
        self._threads: list[threading.Thread] = []
        self._last_trim = 0.0
        self.stats = {shard_id: ShardStats() for shard_id in stream.shard_ids}
        self.last_error: dict[str, str] = {}
        stream.register_consumer(name)

    # -- running ------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Processes at most one batch per shard, without waiting for a batching window; returns
        how many records were taken off the stream (handled or dead-lettered)."""
        return sum(self._poll_shard(shard_id, wait_window=False) for shard_id in self.stream.shard_ids)

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Runs batches until no shard has pending records; False if `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        while any(self.pending().values()):
            if time.monotonic() > deadline:
                return False
            self.run_once()
        return True

    def start(self) -> None:
        """One background thread per shard, as Lambda runs one invocation at a time per shard."""
        if self._threads:
            raise RuntimeError("consumer already started")
        self._stop.clear()
        for shard_id in self.stream.shard_ids:
            thread = threading.Thread(
                target=self._run_shard, args=(shard_id,), daemon=True, name=f"{self.name}-{shard_id}"
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.stream.wake()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def pending(self) -> dict[str, int]:
        return self.stream.pending(self.name)

    def iterator_age_s(self) -> dict[str, float]:
        return self.stream.iterator_age_s(self.name)

    def health(self) -> dict[str, Any]:
        """Per shard: pending records, iterator age, counters and the last error, for a dashboard."""
        pending, ages = self.pending(), self.iterator_age_s()
        return {
            "consumer": self.name,
            "stream": self.stream.name,
            "running": self.running,
            "shards": {
                shard_id: {
                    "pending": pending[shard_id],
                    "iterator_age_s": ages[shard_id],
                    **vars(self.stats[shard_id]),
                    "last_error": self.last_error.get(shard_id),
                }
                for shard_id in self.stream.shard_ids
            },
        }

    def _run_shard(self, shard_id: str) -> None:
        while not self._stop.is_set():
            try:
                taken = self._poll_shard(shard_id, wait_window=True)
            except ConsumerStopped:
                return
            except Exception as exc:
                # Nothing was checkpointed, so the batch is read again: log and back off.
                log.exception("consumer %s, %s: polling failed; retrying", self.name, shard_id)
                self.last_error[shard_id] = f"{type(exc).__name__}: {exc}"
                self._stop.wait(self.poll_interval_s)
                continue
            if taken == 0:
                self.stream.wait_for_records(self.poll_interval_s)
            self._maybe_trim()

    def _maybe_trim(self) -> None:
        now = time.monotonic()
        if now - self._last_trim > 60.0:
            self._last_trim = now
            try:
                self.stream.trim()
            except Exception:
                log.exception("trimming stream %s failed", self.stream.name)

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _poll_shard(self, shard_id: str, *, wait_window: bool) -> int:
        with self._shard_locks[shard_id]:
            after = self.stream.checkpoint(self.name, shard_id)
            batch = self.stream.read(shard_id, after, self.batch_size)
            if wait_window and batch and len(batch) < self.batch_size and self.batching_window_s > 0:
                # Like MaximumBatchingWindowInSeconds: gather records for a while before invoking.
                deadline = time.monotonic() + self.batching_window_s
                while len(batch) < self.batch_size and not self._stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self.stream.wait_for_records(min(remaining, 0.05))
                    batch = self.stream.read(shard_id, after, self.batch_size)
            if not batch:
                return 0
            self._process(shard_id, batch)
            return len(batch)

    # -- one batch, with AWS's error handling ------------------------------------------------

    def _process(self, shard_id: str, batch: list[StreamRecord]) -> None:
        stats = self.stats[shard_id]
        segments: deque[tuple[list[StreamRecord], int]] = deque([(batch, 0)])
        while segments:
            records, retries = segments.popleft()
            records = self._expire(shard_id, records, retries)
            if not records:
                continue
            outcome = self._invoke(shard_id, records)
            stats.invocations += 1
            if outcome.ok:
                self._checkpoint(shard_id, records[-1])
                stats.records_succeeded += len(records)
                continue
            self.last_error[shard_id] = f"{outcome.error}: {outcome.cause}"
            if outcome.failed_from is not None:
                # Partial batch response: checkpoint before the first failed item, retry from it.
                if outcome.failed_from > 0:
                    self._checkpoint(shard_id, records[outcome.failed_from - 1])
                    stats.records_succeeded += outcome.failed_from
                records = records[outcome.failed_from :]
            elif self.bisect_on_error and len(records) > 1:
                # Splitting does not use up the retry quota (AWS); the first half goes first.
                middle = len(records) // 2
                segments.appendleft((records[middle:], retries))
                segments.appendleft((records[:middle], retries))
                stats.bisections += 1
                continue
            retries += 1
            if self.max_retries is not None and retries > self.max_retries:
                self._dead_letter(shard_id, records, "RetryAttemptsExhausted", retries, outcome)
                continue
            stats.retries += 1
            self._sleep(self._backoff(retries))
            if self._stop.is_set():
                raise ConsumerStopped()
            segments.appendleft((records, retries))

    def _expire(self, shard_id: str, records: list[StreamRecord], retries: int) -> list[StreamRecord]:
        """Sends records older than max_record_age_s to the on-failure destination; arrival order
        within a shard makes them a prefix of the batch."""
        if self.max_record_age_s is None:
            return records
        now = self._clock()
        expired = 0
        while expired < len(records) and now - records[expired].arrival > self.max_record_age_s:
            expired += 1
        if expired:
            outcome = _Outcome(
                ok=False,
                error="RecordAgeExceeded",
                cause=f"older than MaximumRecordAgeInSeconds={self.max_record_age_s:g}",
            )
            self._dead_letter(shard_id, records[:expired], "RecordAgeExceeded", retries, outcome)
        return records[expired:]

    def _backoff(self, retries: int) -> float:
        delay = min(self.backoff_max_s, self.backoff_base_s * (2 ** (retries - 1)))
        return random.uniform(delay / 2, delay) if self.backoff_jitter else delay

    def _checkpoint(self, shard_id: str, record: StreamRecord) -> None:
        self.stream.set_checkpoint(self.name, shard_id, record.seq)

    def build_event(self, records: list[StreamRecord]) -> dict[str, Any]:
        """The event Lambda passes a function for a Kinesis batch."""
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r.partition_key,
                        "sequenceNumber": r.sequence_number,
                        "data": base64.b64encode(r.data).decode("ascii"),
                        "approximateArrivalTimestamp": r.arrival,
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{r.shard_id}:{r.sequence_number}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": f"arn:aws:iam::{self.stream.account}:role/{self.function_name}-role",
                    "awsRegion": self.stream.region,
                    "eventSourceARN": self.stream.arn,
                }
                for r in records
            ]
        }

    def _invoke(self, shard_id: str, records: list[StreamRecord]) -> _Outcome:
        try:
            response = self.handler(self.build_event(records), self._context_factory())
        except Exception as exc:  # noqa: BLE001 - a function error, handled like Lambda does
            log.warning("consumer %s, %s: handler failed on %d record(s): %s", self.name, shard_id, len(records), exc)
            return _Outcome(ok=False, error=type(exc).__name__, cause=str(exc))
        if not self.report_batch_item_failures:
            return _Outcome(ok=True)
        return self._read_response(records, response)

    @staticmethod
    def _read_response(records: list[StreamRecord], response: Any) -> _Outcome:
        """AWS: no response, no list or an empty list is success; an item without a valid
        identifier fails the whole batch; otherwise retry from the lowest failed sequence number."""
        if not isinstance(response, dict):
            return _Outcome(ok=True)
        failures = response.get("batchItemFailures")
        if not failures:
            return _Outcome(ok=True)
        index = {r.sequence_number: i for i, r in enumerate(records)}
        failed: list[int] = []
        for item in failures if isinstance(failures, list) else [failures]:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(identifier, str) or identifier not in index:
                return _Outcome(
                    ok=False,
                    error="InvalidBatchItemFailures",
                    cause=f"batchItemFailures item {item!r} does not name a record of the batch",
                )
            failed.append(index[identifier])
        first = min(failed)
        return _Outcome(
            ok=False,
            failed_from=first,
            error="BatchItemFailure",
            cause=f"handler reported {len(failed)} failed item(s), first {records[first].sequence_number}",
        )

    def _dead_letter(
        self, shard_id: str, records: list[StreamRecord], condition: str, invocations: int, outcome: _Outcome
    ) -> None:
        """The on-failure record Lambda sends (requestContext, KinesisBatchInfo, ...) plus the error
        and the records themselves, so the batch can be put back on the stream
        (`autotagger.local.redrive.redrive_batch`).
        Sent before the checkpoint moves: a crash in between duplicates the letter, never loses it."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        body = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0].sequence_number,
                "endSequenceNumber": records[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso(records[0].arrival),
                "approximateArrivalOfLastRecord": _iso(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": self.stream.arn,
            },
            "stream": self.stream.name,
            "consumer": self.name,
            "error": outcome.error,
            "cause": outcome.cause,
            "attempts": invocations,
            "failed_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "records": [
                {
                    "sequenceNumber": r.sequence_number,
                    "partitionKey": r.partition_key,
                    "data": base64.b64encode(r.data).decode("ascii"),
                    "approximateArrivalTimestamp": r.arrival,
                }
                for r in records
            ],
        }
        attributes = {"source": "aws:kinesis", "stream": self.stream.name, "shard": shard_id, "condition": condition}
        self.on_failure.send(json.dumps(body), attributes)
        self._checkpoint(shard_id, records[-1])
        self.stats[shard_id].records_dead_lettered += len(records)
        log.error(
            "consumer %s, %s: %d record(s) %s..%s sent to the dead-letter queue (%s: %s)",
            self.name,
            shard_id,
            len(records),
            records[0].sequence_number,
            records[-1].sequence_number,
            condition,
            outcome.cause,
        )


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
