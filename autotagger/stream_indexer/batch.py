"""One Kinesis batch -> one `ImageIndex.apply` call -> a partial batch response.

All records are decoded first so the whole batch becomes a single bulk request; Powertools'
BatchProcessor then walks the records and reports, by sequence number, exactly those that were
malformed or whose write failed. The stream retries them (splitting the batch is its job); a
"stale" result means an older event lost to a newer one, which is success, not something to retry.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from autotagger.domain.documents import DISPLAY_THRESHOLD, MalformedRecord, action_from_record, parse_record
from autotagger.ports import ImageIndex


class IndexWriteFailed(RuntimeError):
    """The index answered this record's write with a retryable error."""


@dataclass
class BatchOutcome:
    """What happened to each record, keyed by Kinesis sequence number."""

    failures: dict[str, Exception] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)


def decode_record(record: dict[str, Any]) -> dict[str, Any]:
    """Kinesis event record -> validated stream record.

    `kinesis.data` is base64 of the bytes Kinesis stored (Lambda's Kinesis event). Those bytes are
    the record's JSON text, or base64 of it: the Kinesis API carries a blob as base64 on the wire
    ("base64-encoded when the blob is serialized",
    https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html), and whether Step
    Functions' aws-sdk integration sends the `Data` string's UTF-8 bytes or takes the string for
    that wire encoding is not documented, so both are accepted; a JSON record never starts with a
    base64 character, so the two cannot be confused. Anything else raises MalformedRecord.
    """
    try:
        stored = base64.b64decode(record["kinesis"]["data"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise MalformedRecord(f"kinesis.data is missing or not base64: {exc}") from exc
    if stored.lstrip()[:1] == b"{":
        return parse_record(stored)
    try:
        inner = base64.b64decode(stored.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedRecord(f"the record data is neither JSON text nor base64 of it: {stored[:40]!r}") from exc
    if inner.lstrip()[:1] != b"{":
        raise MalformedRecord(f"the record data is base64, but not of a JSON object: {inner[:40]!r}")
    return parse_record(inner)


def sequence_number(record: dict[str, Any]) -> str:
    return record["kinesis"]["sequenceNumber"]


def write_batch(event: dict[str, Any], index: ImageIndex, *, threshold: float = DISPLAY_THRESHOLD,
                now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> BatchOutcome:
    """Decodes every record, applies all valid ones in one call, and classifies each record."""
    outcome = BatchOutcome()
    indexed_at = now()
    actions: list[dict[str, Any]] = []
    owners: list[str] = []
    for record in event.get("Records") or []:
        try:
            actions.append(action_from_record(decode_record(record), indexed_at, threshold))
            owners.append(sequence_number(record))
        except MalformedRecord as exc:
            outcome.failures[sequence_number(record)] = exc
            outcome.counts["malformed"] += 1
    results = index.apply(actions) if actions else []
    if len(results) != len(actions):
        raise RuntimeError(f"index returned {len(results)} results for {len(actions)} actions")
    for owner, result in zip(owners, results, strict=True):
        status = result.get("status")
        if status == "applied" or status == "stale":
            outcome.counts[status] += 1
        else:
            outcome.failures[owner] = IndexWriteFailed(f"document {result.get('id')}: {result.get('error', status)}")
            outcome.counts["error"] += 1
    return outcome


def respond(event: dict[str, Any], outcome: BatchOutcome, context: Any = None) -> PartialItemFailureResponse:
    """The Lambda partial batch response: `batchItemFailures` lists the failed sequence numbers.

    `raise_on_entire_batch_failure=False` keeps the answer a response even when every record
    failed, so the local stream and Lambda see the same shape (Lambda retries it all either way).
    """
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)

    def record_handler(record: KinesisStreamRecord) -> None:
        failure = outcome.failures.get(record.kinesis.sequence_number)
        if failure is not None:
            raise failure

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
