"""The durable state of a local run, as files in the data directory, and the read-side questions
the API and the CLI ask of it.

Kept apart from the running pipeline (`autotagger.local.runtime`) so read-only commands
(`autotagger search`, `executions list`, `dlq list`) open the same files without starting
workers or a stream consumer, even while `autotagger serve` runs on the same directory.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from autotagger.config import Settings
from autotagger.contracts import (
    INDEXER_DLQ_NAME,
    MODERATION_THRESHOLD,
    STATE_MACHINE_NAME,
    STREAM_NAME,
    WORKFLOW_DLQ_NAME,
)
from autotagger.workflow.history import failed_state

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# What became of an upload (`LocalStores.upload_outcome`).
UPLOAD_STATUSES = ("indexed", "dead_lettered", "running", "superseded")
INDEXER_CONSUMER = "indexer"
STREAM_SHARDS = 4

# Where each piece lives inside the data directory.
BUCKET_DB = "bucket.sqlite3"
STREAM_DB = "stream.sqlite3"
DLQ_DB = "dead_letters.sqlite3"
EXECUTIONS_DB = "executions.sqlite3"
RUNTIME_DB = "runtime.sqlite3"


class LocalStores:
    """Opens each store on first use; every store is safe to share between threads."""

    def __init__(self, settings: Settings, *, index: Any = None):
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if index is not None:
            self.__dict__["index"] = index

    # -- the stores ------------------------------------------------------------------------

    @cached_property
    def bucket(self):
        from autotagger.local.bucket import LocalBucket

        return LocalBucket(self.data_dir, self.settings.bucket, db_file=BUCKET_DB)

    @cached_property
    def stream(self):
        from autotagger.local.stream import LocalStream

        return LocalStream(self.data_dir / STREAM_DB, STREAM_NAME, STREAM_SHARDS,
                           region=self.settings.region, account=self.settings.account)

    @cached_property
    def workflow_dlq(self):
        from autotagger.local.dlq import LocalDeadLetterQueue

        return LocalDeadLetterQueue(self.data_dir / DLQ_DB, WORKFLOW_DLQ_NAME)

    @cached_property
    def indexer_dlq(self):
        from autotagger.local.dlq import LocalDeadLetterQueue

        return LocalDeadLetterQueue(self.data_dir / DLQ_DB, INDEXER_DLQ_NAME)

    @cached_property
    def backfill_results(self):
        """Where the backfill's ResultWriter puts the Map Run results (a bucket of their own)."""
        from autotagger.local.backfill import results_bucket

        return results_bucket(self.data_dir)

    @cached_property
    def executions(self):
        from autotagger.workflow.store import ExecutionStore

        return ExecutionStore(self.data_dir / EXECUTIONS_DB)

    @cached_property
    def index(self):
        from autotagger.index import open_index

        return open_index(self.settings.index_target)

    @property
    def bucket_name(self) -> str:
        return self.settings.bucket

    def close(self) -> None:
        for name in ("bucket", "backfill_results", "stream", "workflow_dlq", "indexer_dlq", "executions", "index"):
            store = self.__dict__.pop(name, None)
            if store is not None:
                store.close()

    # -- questions -------------------------------------------------------------------------

    def read_object(self, key: str) -> tuple[bytes, str] | None:
        head = self.bucket.head(key)
        if head is None:
            return None
        try:
            return self.bucket.get(key), head.content_type
        except KeyError:
            return None

    def execution_arn(self, name: str) -> str:
        """The ARN the workflow engine gives an execution of the tagging state machine."""
        from autotagger.contracts import execution_arn

        return execution_arn(STATE_MACHINE_NAME, name)

    def list_executions(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return [execution_summary(e) for e in self.executions.list(status=status, limit=limit)]

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        arn = execution_id if execution_id.startswith("arn:") else self.execution_arn(execution_id)
        execution = self.executions.get(arn)
        return None if execution is None else execution_view(self.executions, arn, execution)

    def execution_counts(self) -> dict[str, int]:
        """Executions per status, every status present (0 when none)."""
        found = self.executions.counts()
        return {status: int(found.get(status, 0)) for status in EXECUTION_STATUSES}

    def dead_letters(self, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
        return {"workflow": [describe_dead_letter(m) for m in self.workflow_dlq.list(limit=limit)],
                "indexer": [describe_dead_letter(m) for m in self.indexer_dlq.list(limit=limit)]}

    def upload_outcome(self, bucket: str, key: str, sequencer: str | None = None) -> dict[str, Any] | None:
        """What became of an upload: of the object version `sequencer`, else of the key's latest one.

        {"bucket", "key", "sequencer", "id" (its index document id), "status"}, and by status:
        - "indexed": "document", its index document;
        - "dead_lettered": "dead_letter", the letter that says why (as `dead_letters` lists it);
        - "running": neither yet (its execution is pending or running, or its record waits on the stream);
        - "superseded": neither, and a newer upload or a delete of the key came since: what it
          would have written no longer shows (an index write never lets an older event win).
        None when another bucket is asked, or no sequencer is given and the bucket has no such key.
        Every answer is a few keyed lookups (index document, dead letters by object): dashboards
        poll it per upload.
        """
        from autotagger.domain.documents import document_id, supersedes

        if bucket != self.bucket_name:
            return None
        head = self.bucket.head(key)
        if sequencer is None:
            if head is None:
                return None
            sequencer = head.sequencer
        outcome: dict[str, Any] = {"bucket": bucket, "key": key, "sequencer": sequencer,
                                   "id": document_id(bucket, key)}
        document = self.index.get(outcome["id"])
        if document is not None and document.get("deleted"):
            document = None  # a tombstone: the key's delete, not this upload
        if document is not None and document.get("sequencer") == sequencer:
            return {**outcome, "status": "indexed", "document": document}
        for queue in (self.workflow_dlq, self.indexer_dlq):
            letters = queue.about(bucket, key, sequencer)
            if letters:
                return {**outcome, "status": "dead_lettered", "dead_letter": describe_dead_letter(letters[0])}
        newer = [s for s in (document and document.get("sequencer"), head and head.sequencer) if s]
        if head is None or any(s != sequencer and supersedes(s, sequencer) for s in newer):
            return {**outcome, "status": "superseded"}
        return {**outcome, "status": "running"}

    def images_indexed(self) -> int:
        return int(self.index.count())

    def stream_records_pending(self) -> int:
        return sum(self.stream.pending(INDEXER_CONSUMER).values())

    def summary(self) -> dict[str, Any]:
        return {
            "images_indexed": self.images_indexed(),
            **self.index.analysis_counts(),  # flagged, analysis_errors
            # the page reads what to blur from here instead of holding a copy of the number
            "moderation_threshold": MODERATION_THRESHOLD,
            "executions": self.execution_counts(),
            "stream_records_pending": self.stream_records_pending(),
            "dead_letters": {"workflow": self.workflow_dlq.count(), "indexer": self.indexer_dlq.count()},
        }


# -- plain-data views -------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _as_dict(execution: Any) -> dict[str, Any]:
    if isinstance(execution, dict):
        return execution
    if is_dataclass(execution):
        return {f.name: getattr(execution, f.name) for f in fields(execution)}
    return vars(execution).copy()


def _parse_json_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def execution_summary(execution: Any) -> dict[str, Any]:
    data = _as_dict(execution)
    arn = data.get("executionArn") or data.get("arn") or ""
    return _jsonable({
        "arn": arn,
        "name": data.get("name") or arn.rsplit(":", 1)[-1],
        "status": data.get("status"),
        "start_date": data.get("startDate") or data.get("start_date"),
        "stop_date": data.get("stopDate") or data.get("stop_date"),
        "error": data.get("error"),
        "cause": data.get("cause"),
    })


def execution_detail(execution: Any) -> dict[str, Any]:
    data = _as_dict(execution)
    history = [_jsonable(event) for event in data.get("history") or []]
    return {**execution_summary(execution),
            "input": _parse_json_text(data.get("input")),
            "output": _parse_json_text(data.get("output")),
            "failed_state": failed_state(history),
            "history": history}


def execution_view(store: Any, arn: str, execution: Any) -> dict[str, Any]:
    """The execution detail with what only the local execution store (`workflow.store.ExecutionStore`)
    knows: the Map Run of a backfill and the execution that started this one."""
    runs = store.map_runs(arn)
    return {**execution_detail(execution), "map_run": map_run_view(runs[-1]) if runs else None,
            "parent_arn": store.parent(arn)}


def map_run_view(record: dict[str, Any]) -> dict[str, Any]:
    """A distributed Map's run (the store's DescribeMapRun-shaped record) as the execution view shows
    it: items by status and the child executions that failed, to open."""
    counts = record.get("itemCounts", {})
    return {
        "arn": record["mapRunArn"],
        "status": record.get("status"),
        "items": {status: int(counts.get(key, 0)) for status, key in (
            ("total", "total"), ("succeeded", "succeeded"), ("failed", "failed"), ("running", "running"),
            ("pending", "pending"), ("aborted", "aborted"), ("timed_out", "timedOut"))},
        "failed_executions": [{"arn": arn, "name": arn.rsplit(":", 1)[-1]}
                              for arn in record.get("failedExecutions", [])],
        "start_date": record.get("startDate"),
        "stop_date": record.get("stopDate"),
    }


def describe_dead_letter(message: Any) -> dict[str, Any]:
    """A dead letter with its body parsed and the reason (error, cause, execution) pulled out."""
    body = _parse_json_text(message.body)
    parsed = body if isinstance(body, dict) else {}
    execution_id = parsed.get("execution_id")
    if execution_id is None and isinstance(parsed.get("records"), list):
        execution_id = _execution_of_record(parsed["records"])
    return {
        "message_id": message.message_id,
        "queue": message.queue,
        "sent_at": message.sent_at,
        "reason": {"error": parsed.get("error"), "cause": parsed.get("cause"), "execution_id": execution_id,
                   "failed_at": parsed.get("failed_at")},
        "body": body,
    }


def _execution_of_record(records: list[Any]) -> str | None:
    for record in records:
        try:
            data = json.loads(base64.b64decode(record["data"]))
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
        if isinstance(data, dict) and isinstance(data.get("execution_id"), str):
            return data["execution_id"]
    return None
