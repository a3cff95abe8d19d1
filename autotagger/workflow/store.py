"""Execution histories in SQLite, written by an execution listener.

ExecutionStarted is committed before the listener returns — so before any task runs — and a
process that crashes mid-execution leaves that execution RUNNING: `running()` lists them so the
restarted process can mark them aborted and run them again. The other events of an execution are
buffered in memory and written in one transaction when it ends (one commit per execution rather
than per event); `get` merges the buffer, so a running execution shows its history so far.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date TEXT NOT NULL,
    stop_date TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, start_date);
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (start_date);
CREATE INDEX IF NOT EXISTS executions_by_key
    ON executions (json_extract(input, '$.detail.object.key'), start_date);
CREATE TABLE IF NOT EXISTS map_runs (
    arn TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_arn);
CREATE TABLE IF NOT EXISTS execution_events (
    arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (arn, id)
);
"""

_TERMINAL = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


def _iso(moment: datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_json(event: dict[str, Any]) -> str:
    return json.dumps({**event, "timestamp": _iso(event["timestamp"])}, separators=(",", ":"), ensure_ascii=False)


class ExecutionStore:
    """Thread-safe (one connection behind a lock), WAL-journaled SQLite store of executions."""

    def __init__(self, sqlite_path: str | Path):
        self.path = str(sqlite_path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # A distributed Map's child executions name their parent and Map Run (added to older files).
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(executions)")}
        for column in ("parent_arn", "map_run_arn"):
            if column not in columns:
                self._db.execute(f"ALTER TABLE executions ADD COLUMN {column} TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS executions_by_map_run ON executions (map_run_arn, status)")
        self._lock = threading.Lock()
        self._pending: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- listener
    def on_event(self, execution: Any, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "ExecutionStarted":
            with self._lock, self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT INTO executions (arn, name, state_machine_arn, status, input, start_date, parent_arn, "
                    "map_run_arn) VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?)",
                    (
                        execution.arn,
                        execution.name,
                        execution.state_machine_arn,
                        event["executionStartedEventDetails"]["input"],
                        _iso(execution.start_date),
                        getattr(execution, "parent_arn", None),
                        getattr(execution, "map_run_arn", None),
                    ),
                )
                self._db.execute(
                    "INSERT INTO execution_events (arn, id, event) VALUES (?, ?, ?)",
                    (execution.arn, event["id"], _event_json(event)),
                )
                self._pending[execution.arn] = []
            return
        with self._lock:
            pending = self._pending.setdefault(execution.arn, [])
            pending.append(event)
            if kind not in _TERMINAL:
                return
            details = event.get(kind[0].lower() + kind[1:] + "EventDetails", {})
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT status FROM executions WHERE arn = ?", (execution.arn,)).fetchone()
                if row is None or row[0] != "RUNNING":  # aborted meanwhile (mark_aborted): its end is not recorded
                    del self._pending[execution.arn]
                    return
                self._db.executemany(
                    "INSERT OR REPLACE INTO execution_events (arn, id, event) VALUES (?, ?, ?)",
                    [(execution.arn, e["id"], _event_json(e)) for e in pending],
                )
                self._db.execute(
                    "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ? WHERE arn = ?",
                    (
                        _TERMINAL[kind],
                        details.get("output"),
                        details.get("error"),
                        details.get("cause"),
                        _iso(event["timestamp"]),
                        execution.arn,
                    ),
                )
            del self._pending[execution.arn]

    def on_map_run(self, record: dict[str, Any]) -> None:
        """Keeps the latest DescribeMapRun-shaped record of a distributed Map's run."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO map_runs (arn, execution_arn, record) VALUES (?, ?, ?)",
                (record["mapRunArn"], record["executionArn"], json.dumps(record, separators=(",", ":"))),
            )

    # -- queries
    def map_runs(self, execution_arn: str) -> builtins.list[dict[str, Any]]:
        """The Map Runs of an execution's distributed Map states (DescribeMapRun-shaped), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM map_runs WHERE execution_arn = ? ORDER BY rowid", (execution_arn,)
            ).fetchall()
        return [json.loads(text) for (text,) in rows]

    def children(self, map_run_arn: str, status: str | None = None, limit: int = 100) -> builtins.list[dict[str, Any]]:
        """A Map Run's child executions (summaries), newest first; `status` filters."""
        return self._newest({"map_run_arn": map_run_arn, "status": status}, limit)

    def _newest(self, equal: dict[str, Any], limit: int) -> builtins.list[dict[str, Any]]:
        """Summaries of the executions whose columns equal the given values (None: any), newest first.
        The column names are this class's own; only the values come from callers (as parameters)."""
        given = {column: value for column, value in equal.items() if value is not None}
        where = " WHERE " + " AND ".join(f"{column} = ?" for column in given) if given else ""
        query = f"SELECT {self._COLUMNS} FROM executions{where} ORDER BY start_date DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, [*given.values(), int(limit)]).fetchall()
        return [self._summary(row) for row in rows]

    def parent(self, execution_arn: str) -> str | None:
        """The execution that started this one (a distributed Map's, or a .sync task's), if any."""
        with self._lock:
            row = self._db.execute("SELECT parent_arn FROM executions WHERE arn = ?", (execution_arn,)).fetchone()
        return None if row is None else row[0]

    @staticmethod
    def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
        arn, name, machine, status, input_text, output, error, cause, start, stop = row
        return {
            "executionArn": arn,
            "name": name,
            "stateMachineArn": machine,
            "status": status,
            "input": input_text,
            "output": output,
            "error": error,
            "cause": cause,
            "startDate": start,
            "stopDate": stop,
        }

    _COLUMNS = "arn, name, state_machine_arn, status, input, output, error, cause, start_date, stop_date"

    def list(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first; `status` filters (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED)."""
        return self._newest({"status": status}, limit)

    def page(self, status: str | None = None, key: str | None = None, limit: int = 50,
             after: tuple[str, int] | None = None) -> builtins.list[tuple[tuple[str, int], dict[str, Any]]]:
        """A keyset page, newest first: (position, execution) pairs after the position `after`
        (a previous page's last), so a page costs the same at any depth and executions started
        meanwhile neither repeat nor shift the rest. `key` keeps executions whose input is an S3
        event for that object key."""
        query = f"SELECT rowid, {self._COLUMNS} FROM executions WHERE 1 = 1"
        args: builtins.list[Any] = []
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        if key is not None:
            query += " AND json_extract(input, '$.detail.object.key') = ?"
            args.append(key)
        if after is not None:
            query += " AND (start_date < ? OR (start_date = ? AND rowid < ?))"
            args += [after[0], after[0], after[1]]
        query += " ORDER BY start_date DESC, rowid DESC LIMIT ?"
        args.append(int(limit))
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [((row[9], int(row[0])), self._summary(row[1:])) for row in rows]

    def counts(self) -> dict[str, int]:
        """Executions per status, e.g. {"SUCCEEDED": 12, "FAILED": 1}."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM executions GROUP BY status").fetchall()
        return dict(rows)

    def arn_named(self, name: str) -> str | None:
        """The newest execution called `name`, of any state machine in this store (a backfill and its
        Map Run's children are executions of other state machines than the tagging workflow)."""
        with self._lock:
            row = self._db.execute(
                "SELECT arn FROM executions WHERE name = ? ORDER BY start_date DESC LIMIT 1", (name,)
            ).fetchone()
        return None if row is None else str(row[0])

    def get(self, execution_arn: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._COLUMNS} FROM executions WHERE arn = ?", (execution_arn,)).fetchone()
            if row is None:
                return None
            events = [
                json.loads(text)
                for (text,) in self._db.execute(
                    "SELECT event FROM execution_events WHERE arn = ? ORDER BY id", (execution_arn,)
                )
            ]
            stored = {e["id"] for e in events}
            events += [
                json.loads(_event_json(e)) for e in self._pending.get(execution_arn, []) if e["id"] not in stored
            ]
        return {**self._summary(row), "history": events}

    def running(self) -> builtins.list[tuple[str, Any]]:  # `list` here is the method above
        """(arn, input) of executions still RUNNING — after a restart, those the crash interrupted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT arn, input FROM executions WHERE status = 'RUNNING' ORDER BY start_date"
            ).fetchall()
        return [(arn, json.loads(text)) for arn, text in rows]

    def mark_aborted(self, execution_arn: str, reason: str) -> bool:
        """Marks a RUNNING execution ABORTED with an ExecutionAborted event; False if it was not running."""
        now = datetime.now(UTC)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            changed = self._db.execute(
                "UPDATE executions SET status = 'ABORTED', error = 'States.Aborted', cause = ?, stop_date = ? "
                "WHERE arn = ? AND status = 'RUNNING'",
                (reason, _iso(now), execution_arn),
            ).rowcount
            if changed:
                last = self._db.execute(
                    "SELECT COALESCE(MAX(id), 0) FROM execution_events WHERE arn = ?", (execution_arn,)
                ).fetchone()[0]
                event = {
                    "id": last + 1,
                    "previousEventId": last,
                    "timestamp": now,
                    "type": "ExecutionAborted",
                    "executionAbortedEventDetails": {"error": "States.Aborted", "cause": reason},
                }
                self._db.execute(
                    "INSERT INTO execution_events (arn, id, event) VALUES (?, ?, ?)",
                    (execution_arn, event["id"], _event_json(event)),
                )
            self._pending.pop(execution_arn, None)
        return bool(changed)
