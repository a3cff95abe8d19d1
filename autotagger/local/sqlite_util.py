"""One durable SQLite connection shared by the threads of a local stand-in.

Why one connection behind a lock rather than a connection per thread: the HTTP server, the
workflow workers and the stream consumer all touch the same stand-ins, and their operations are
short; a lock keeps every transaction simple to reason about and lets `close()` really close.
Other *processes* (a second `autotagger` command on the same data dir) are handled by SQLite's own
file locking: WAL mode plus a busy timeout.

Why `synchronous=FULL`: these stores hold things the system has *accepted* (an uploaded object,
a record on the stream, a dead letter). WAL with NORMAL survives a process crash but may lose
the last commits on power loss; FULL fsyncs the WAL at every commit, so an acknowledged write
survives both. The write rate (one commit per upload or stream record) makes the fsync cheap.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _checked(synchronous: str) -> str:
    if synchronous not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
    return synchronous


class Database:
    """A WAL-mode SQLite database; every statement runs under one re-entrant lock."""

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", busy_timeout_s: float = 30.0):
        self.synchronous = _checked(synchronous)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly the
        # `with db.transaction()` block and nothing is left half-open by the sqlite3 module.
        self._conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={self.synchronous}")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._closed = False

    @contextmanager
    def transaction(self, *, synchronous: str | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes SQLite's write lock up front (also across
        processes), so a read-modify-write inside it cannot interleave with another writer.
        `synchronous` (e.g. NORMAL) applies to this transaction's commit only: for writes whose loss
        in a power cut is harmless; the next FULL commit fsyncs them along with its own."""
        with self._lock:
            self._check_open()
            if synchronous is not None:
                self._conn.execute(f"PRAGMA synchronous={_checked(synchronous)}")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                else:
                    self._conn.execute("COMMIT")
            finally:
                if synchronous is not None:
                    self._conn.execute(f"PRAGMA synchronous={self.synchronous}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._check_open()
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            self._check_open()
            return self._conn.execute(sql, params).fetchone()

    def executescript(self, script: str) -> None:
        """Schema setup; statements must be idempotent (CREATE ... IF NOT EXISTS)."""
        with self._lock:
            self._check_open()
            self._conn.executescript(script)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"database {self.path} is closed")
