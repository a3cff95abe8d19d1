"""Ports: the interfaces the core talks to. Each has one adapter per backend.

| port          | AWS adapter                  | local adapter                         |
|---------------|------------------------------|---------------------------------------|
| Labeler       | Rekognition (boto3)          | onnxruntime labeler                   |
| ObjectStore   | S3 (boto3)                   | bucket on disk (autotagger.local)     |
| RecordStream  | Kinesis                      | durable SQLite stream                 |
| DeadLetters   | SQS                          | durable SQLite queue                  |
| ImageIndex    | OpenSearch (opensearch-py)   | SQLite                                |
| Executions    | Step Functions' own history  | SQLite execution store                |

Everything crossing a port is plain data (dicts, bytes, dataclasses), so the domain can be tested
with in-memory fakes and the local runtime can swap any adapter for the AWS one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Labeler(Protocol):
    """Detects labels in an image; answers exactly like Rekognition's DetectLabels.

    The response is `{"Labels": [{"Name", "Confidence", "Instances": [{"BoundingBox": {"Width",
    "Height", "Left", "Top"}, "Confidence"}], "Parents": [{"Name"}], "Aliases": [{"Name"}],
    "Categories": [{"Name"}]}], "LabelModelVersion": str}`. Errors are `autotagger.errors`
    Rekognition errors (InvalidImageFormatException, ImageTooLargeException, ...).

    `model_version` names the model that answers (what `LabelModelVersion` will say), so a change of
    model is a new reprocess run; None when only the answers say it (Rekognition).
    """

    model_version: str | None

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100,
                      min_confidence: float = 55.0) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StoredObject:
    """Metadata S3 reports for an object (and puts in its EventBridge events)."""

    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    last_modified: str  # ISO 8601, UTC
    content_type: str = "application/octet-stream"


@runtime_checkable
class ObjectStore(Protocol):
    """A bucket. Keys are opaque data (any UTF-8 string up to 1024 bytes), never file paths."""

    name: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject: ...

    def get(self, key: str) -> bytes: ...  # raises KeyError when absent

    def head(self, key: str) -> StoredObject | None: ...

    def delete(self, key: str) -> StoredObject | None: ...  # metadata of the delete (new sequencer), None if absent

    def list(self, prefix: str = "") -> Iterable[StoredObject]: ...

    def close(self) -> None: ...


@runtime_checkable
class RecordStream(Protocol):
    """Kinesis-like: records are ordered per partition key."""

    def put_record(self, data: bytes, partition_key: str) -> dict[str, str]: ...  # {"SequenceNumber", "ShardId"}

    def close(self) -> None: ...


@dataclass
class DeadLetter:
    message_id: str
    body: str  # JSON text, as sent
    sent_at: str
    queue: str
    attributes: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class DeadLetters(Protocol):
    """SQS-like dead-letter queue you can list and redrive.

    Unlike SQS it also answers which letters are about one S3 object (`about`): a workflow dead
    letter carries the object's S3 event, an indexer dead letter the stream records of its batch.
    """

    def send(self, body: str, attributes: dict[str, str] | None = None) -> str: ...  # message id

    def about(self, bucket: str, key: str, sequencer: str | None = None) -> list[DeadLetter]:
        """The letters about object `bucket/key` (only its version `sequencer` when given), newest first."""
        ...

    # After every annotation naming the builtin `list`: past this def the class body's `list` is the method.
    def list(self, limit: int = 100) -> list[DeadLetter]: ...

    def count(self) -> int: ...

    def remove(self, message_id: str) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class ImageIndex(Protocol):
    """Where image documents live and are searched (OpenSearch on AWS, SQLite locally).

    Writes are conditional on the S3 sequencer: an older event never replaces a newer one.
    """

    def apply(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Applies upserts/deletes ({"action": "upsert"|"delete", "document"|"id", "sequencer"}).

        Returns one result per action: {"id", "status": "applied"|"stale"|"error", "error"?}.
        An "error" result is retryable; "stale" is a no-op the caller must not retry.
        """
        ...

    def get(self, doc_id: str) -> dict[str, Any] | None: ...

    def search(self, tags: list[str] | None = None, min_confidence: float = 0.0, limit: int = 50,
               cursor: str | None = None, since: str | None = None, until: str | None = None,
               offset: int = 0) -> dict[str, Any]:
        """{"total": int, "images": [document, ...], "next_cursor": str | None}.

        Newest first by event_time, ties by id (descending). Every tag must match, ignoring case
        (`dog` finds `Dog`; documents show tags as written), with a label of at least min_confidence.
        since is inclusive, until exclusive. `total` counts every match, whatever the page. limit is
        0..500 (0: the total only). Pass `next_cursor` back as `cursor` for the next page; it is None
        on the last page. A walk by cursor returns each image once, also while images are indexed.
        `offset` skips matches instead (not together with a cursor). Raises
        `autotagger.errors.InvalidCursor` for a malformed cursor and ValueError for other bad values.
        Shared semantics: `autotagger.index.query`.
        """
        ...

    def tag_counts(self, top: int = 20, min_confidence: float = 0.0, since: str | None = None,
                   until: str | None = None) -> list[dict[str, Any]]:
        """[{"tag", "count"}] most frequent first."""
        ...

    def image_counts(self, interval: str = "day", since: str | None = None, until: str | None = None,
                     min_confidence: float = 0.0) -> list[dict[str, Any]]:
        """[{"time": ISO start of bucket, "count"}] oldest first; interval is hour|day|week|month."""
        ...

    def count(self) -> int:
        """Live (not deleted) images."""
        ...

    def analysis_counts(self) -> dict[str, int]:
        """{"flagged": live images whose `moderation.max_confidence` >= `contracts.MODERATION_THRESHOLD`,
        "analysis_errors": live images with a non-empty `analysis_errors`}."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Executions(Protocol):
    """Workflow executions and their event histories; the engine writes it as a listener.

    Execution dicts are shaped like Step Functions' DescribeExecution: {"executionArn", "name",
    "stateMachineArn", "status", "input", "output", "error", "cause", "startDate", "stopDate"}.
    """

    def on_event(self, execution: Any, event: dict[str, Any]) -> None: ...

    def running(self) -> list[tuple[str, Any]]:
        """(arn, input) of the executions still RUNNING."""
        ...

    # After every annotation naming the builtin `list`: past this def the class body's `list` is the method.
    def list(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first; `status` filters (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED)."""
        ...

    def get(self, execution_arn: str) -> dict[str, Any] | None:
        """The execution with its "history" (events oldest first), or None."""
        ...

    def counts(self) -> dict[str, int]:
        """Executions per status that has any, e.g. {"SUCCEEDED": 12, "FAILED": 1}."""
        ...

    def mark_aborted(self, execution_arn: str, reason: str) -> bool: ...

    def close(self) -> None: ...


# -- read API (issue 11): what `autotagger.api.service.ReadApi` needs besides the ImageIndex ------
#
# | port            | AWS adapter (autotagger.api.aws)              | local adapter                    |
# |-----------------|-----------------------------------------------|----------------------------------|
# | ExecutionLookup | Step Functions (List/DescribeExecution, GetExecutionHistory) | the execution store |
# | DeadLetterQueue | one SQS dead-letter queue                     | one SQLite dead-letter queue     |
# | ImageUrls       | presigned S3 GET and PUT                      | signed, expiring local URLs      |
#
# Executions and dead letters cross these ports already in the API's JSON shapes
# (`autotagger.local.stores.execution_summary`, `execution_detail`), so both runtimes answer alike.


@runtime_checkable
class ExecutionLookup(Protocol):
    """The tagging state machine's executions, newest first."""

    def list(self, status: str | None = None, key: str | None = None, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
        """{"executions": [summary, ...], "next_cursor": str | None}; `key` keeps the executions whose
        input is an S3 event for that object key. A page may hold fewer than `limit` executions while
        `next_cursor` is not None. An unknown cursor raises `autotagger.errors.InvalidCursor`."""
        ...

    def describe(self, name: str) -> dict[str, Any] | None:
        """The execution detail with its history state by state and the failed state, or None."""
        ...


@runtime_checkable
class DeadLetterQueue(Protocol):
    """One dead-letter queue the API lists and redrives; `name` is its key in the API's answer
    (workflow, rule, indexer)."""

    name: str

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        """Re-submits the given messages of this queue (when None, all it held as the redrive began:
        a re-submission that fails again waits for the next redrive), each at most once however
        often this is called, and deletes a message only after its re-submission started.
        {"redriven": [message id, ...], "not_redrivable": [id of a message kept: nothing to re-submit]};
        ids this queue does not hold are in neither list."""
        ...

    def list(self, limit: int = 100, visibility_timeout_s: int = 30) -> list[DeadLetter]:
        """Up to `limit` messages, oldest first where the queue knows the order. Listing may hide
        messages from other receivers for at most `visibility_timeout_s` (SQS must receive to read)."""
        ...


@runtime_checkable
class ImageUrls(Protocol):
    """Short-lived URLs to read an image's bytes and to upload one, without the API in between."""

    def download_url(self, bucket: str, key: str, expires_in_s: int) -> str: ...

    def upload(self, key: str, content_type: str, size: int, expires_in_s: int) -> dict[str, Any]:
        """{"url", "method", "headers", "expires_at", "key"}: a request made with exactly `method`
        and `headers` stores a body of `size` bytes of `content_type` under `key` in the image bucket;
        any other type or size is refused by whoever serves the URL."""
        ...
