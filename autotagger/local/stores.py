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
import sqlite3
from contextlib import closing
from dataclasses import fields, is_dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from autotagger.config import Settings
from autotagger.contracts import INDEXER_DLQ_NAME, STATE_MACHINE_NAME, STREAM_NAME, WORKFLOW_DLQ_NAME

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
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
        for name in ("bucket", "stream", "workflow_dlq", "indexer_dlq", "executions", "index"):
            store = self.__dict__.pop(name, None)
            close = getattr(store, "close", None)
            if close is not None:
                close()

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
        from autotagger.workflow.machine import execution_arn

        return execution_arn(STATE_MACHINE_NAME, name)

    def list_executions(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return [execution_summary(e) for e in self.executions.list(status=status, limit=limit)]

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        arn = execution_id if execution_id.startswith("arn:") else self.execution_arn(execution_id)
        execution = self.executions.get(arn)
        return None if execution is None else execution_detail(execution)

    def execution_counts(self) -> dict[str, int]:
        """Executions per status. The dashboard polls this, so it must not load every execution:
        the store's own `counts()` when it has one, else one GROUP BY on its file."""
        counted = getattr(self.executions, "counts", None)
        if counted is not None:
            found = counted()
        else:
            path = Path(self.executions.path)
            with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
                found = dict(conn.execute("SELECT status, COUNT(*) FROM executions GROUP BY status").fetchall())
        return {status: int(found.get(status, 0)) for status in EXECUTION_STATUSES}

    def dead_letters(self, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
        return {"workflow": [describe_dead_letter(m) for m in self.workflow_dlq.list(limit=limit)],
                "indexer": [describe_dead_letter(m) for m in self.indexer_dlq.list(limit=limit)]}

    def images_indexed(self) -> int:
        count = getattr(self.index, "count", None)
        return int(count()) if count is not None else int(self.index.search(limit=0)["total"])

    def stream_records_pending(self) -> int:
        return sum(self.stream.pending(INDEXER_CONSUMER).values())

    def summary(self) -> dict[str, Any]:
        return {
            "images_indexed": self.images_indexed(),
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


def failed_state(history: list[dict[str, Any]]) -> str | None:
    """The state whose failure sent the execution to its dead letter: the task that failed, or
    the state that routed to the dead letter when a check refused the event. A failure that a
    Catch recovered from (DetectLabels refusing an original, which is then normalised) is not it:
    the last failure before the dead letter is."""
    current = previous = failed = None
    for event in history:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            previous, current = current, entered.get("name")
            if current == "BuildDeadLetter":
                return failed or previous
            continue
        kind = event.get("type", "")
        if kind.endswith("Failed") and kind != "ExecutionFailed":
            failed = current
    return failed


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
