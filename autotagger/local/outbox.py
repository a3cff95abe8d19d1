"""The outbox: executions the event rule accepted and that have not ended yet.

An upload is acknowledged only once its pending execution is a row here (SQLite, WAL,
synchronous=FULL), and the row goes only when the execution has ended (succeeded, or left its
dead letter). So after a crash every row is work to run again (`autotagger.local.recovery`).
The row's name is the first execution's name and the idempotency key: adding it twice runs once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autotagger.local.sqlite_util import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_executions (
    name       TEXT PRIMARY KEY,   -- the first execution's name: the idempotency key
    input      TEXT NOT NULL,      -- the workflow input (the S3 EventBridge event), JSON
    attempt    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class PendingExecution:
    name: str
    event: dict[str, Any]
    attempt: int  # how many times a restart has run it again


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Outbox:
    """Pending executions in SQLite; safe to share between threads."""

    def __init__(self, db_path: str | os.PathLike[str]):
        self._db = Database(db_path)
        self._db.executescript(_SCHEMA)

    def add(self, name: str, event: dict[str, Any]) -> bool:
        """Records the pending execution; False if `name` is pending already (nothing changes)."""
        with self._db.transaction() as conn:
            return conn.execute(
                "INSERT OR IGNORE INTO pending_executions (name, input, attempt, created_at) VALUES (?, ?, 0, ?)",
                (name, json.dumps(event), _now())).rowcount > 0

    def remove(self, name: str) -> None:
        """The execution ended: nothing is left to run for it."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM pending_executions WHERE name = ?", (name,))

    def pending(self) -> list[PendingExecution]:
        """Oldest first."""
        return [PendingExecution(row["name"], json.loads(row["input"]), row["attempt"]) for row in
                self._db.query("SELECT name, input, attempt FROM pending_executions ORDER BY created_at")]

    def set_attempt(self, name: str, attempt: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("UPDATE pending_executions SET attempt = ? WHERE name = ?", (attempt, name))

    def close(self) -> None:
        self._db.close()
