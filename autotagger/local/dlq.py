"""Durable dead-letter queues (the SQS stand-in) you can list and redrive.

A dead letter is the only trace of work that failed for good, so it is kept like accepted data:
SQLite in WAL mode with synchronous=FULL, one row per message, until someone removes it.

Redrive must not start the same work twice, so it follows SQS's receive/delete protocol: `claim`
hides a message for a visibility timeout and counts the receive; only the claimant then removes it
after re-submitting; if the re-submission fails (or the process dies) the claim lapses and the
message is visible again. A second redrive of a claimed or removed message gets nothing to do.
Passing `message_id` to the re-submission as its idempotency key (the execution name) closes the
last gap, a crash between re-submitting and removing.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from autotagger.local.sqlite_util import Database
from autotagger.ports import DeadLetter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    message_id    TEXT NOT NULL UNIQUE,
    body          TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    sent_at       TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    invisible_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dead_letters_by_queue ON dead_letters (queue, seq);
"""

MAX_BODY_BYTES = 256 * 1024  # SQS's limit; a body that large is a bug upstream, not a dead letter


@dataclass
class QueuedDeadLetter(DeadLetter):
    """A dead letter as the queue holds it: also how often it was received (claimed) and whether a
    claim currently hides it."""

    receive_count: int = 0
    in_flight: bool = False


def _iso(epoch_s: float) -> str:
    now = datetime.fromtimestamp(epoch_s, timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class LocalDeadLetterQueue:
    """`ports.DeadLetters` in SQLite; several named queues may share one database file."""

    def __init__(self, db_path: str | os.PathLike[str], name: str, *, clock: Callable[[], float] = time.time):
        if not name:
            raise ValueError("queue name must not be empty")
        self.name = name
        self._clock = clock
        self._db = Database(db_path)
        self._db.executescript(_SCHEMA)

    def send(self, body: str, attributes: dict[str, str] | None = None) -> str:
        if not isinstance(body, str):
            raise TypeError(f"message body must be str (JSON text), not {type(body).__name__}")
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            raise ValueError(f"message body is larger than {MAX_BODY_BYTES} bytes")
        attributes = dict(attributes or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise TypeError("message attributes must map str to str")
        message_id = str(uuid.uuid4())
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO dead_letters (queue, message_id, body, attributes, sent_at) VALUES (?, ?, ?, ?, ?)",
                (self.name, message_id, body, json.dumps(attributes), _iso(self._clock())),
            )
        return message_id

    def list(self, limit: int = 100, offset: int = 0) -> list[QueuedDeadLetter]:
        """Oldest first; includes claimed messages (see `in_flight`); does not count as a receive."""
        rows = self._db.query(
            "SELECT * FROM dead_letters WHERE queue = ? ORDER BY seq LIMIT ? OFFSET ?", (self.name, limit, offset)
        )
        return [self._to_letter(row) for row in rows]

    def get(self, message_id: str) -> QueuedDeadLetter | None:
        row = self._db.query_one("SELECT * FROM dead_letters WHERE queue = ? AND message_id = ?",
                                 (self.name, message_id))
        return None if row is None else self._to_letter(row)

    def count(self) -> int:
        row = self._db.query_one("SELECT COUNT(*) AS n FROM dead_letters WHERE queue = ?", (self.name,))
        return int(row["n"])

    def remove(self, message_id: str) -> bool:
        """Deletes the message; True if it was there. Removing twice is harmless."""
        with self._db.transaction() as conn:
            cur = conn.execute("DELETE FROM dead_letters WHERE queue = ? AND message_id = ?", (self.name, message_id))
            return cur.rowcount > 0

    def claim(self, message_id: str, visibility_timeout_s: float = 300.0) -> QueuedDeadLetter | None:
        """Hides the message from other claims for `visibility_timeout_s` and returns it, or None if
        it is absent or already claimed. Counts as a receive."""
        now = self._clock()
        with self._db.transaction() as conn:
            cur = conn.execute(
                "UPDATE dead_letters SET receive_count = receive_count + 1, invisible_until = ?"
                " WHERE queue = ? AND message_id = ? AND invisible_until <= ?",
                (now + visibility_timeout_s, self.name, message_id, now),
            )
            if cur.rowcount == 0:
                return None
            row = conn.execute("SELECT * FROM dead_letters WHERE message_id = ?", (message_id,)).fetchone()
        return self._to_letter(row)

    def release(self, message_id: str) -> bool:
        """Ends a claim early (the re-submission failed): the message is visible again."""
        with self._db.transaction() as conn:
            cur = conn.execute("UPDATE dead_letters SET invisible_until = 0 WHERE queue = ? AND message_id = ?",
                               (self.name, message_id))
            return cur.rowcount > 0

    def redrive(self, message_id: str, resubmit: Callable[[QueuedDeadLetter], Any],
                visibility_timeout_s: float = 300.0) -> bool:
        """claim → resubmit(letter) → remove. False if there was nothing to redrive (absent, or
        claimed by a concurrent redrive). If `resubmit` raises, the message stays and the error
        propagates."""
        letter = self.claim(message_id, visibility_timeout_s)
        if letter is None:
            return False
        try:
            resubmit(letter)
        except BaseException:
            self.release(message_id)
            raise
        self.remove(message_id)
        return True

    def close(self) -> None:
        self._db.close()

    def _to_letter(self, row) -> QueuedDeadLetter:
        return QueuedDeadLetter(
            message_id=row["message_id"], body=row["body"], sent_at=row["sent_at"], queue=row["queue"],
            attributes=json.loads(row["attributes"]), receive_count=row["receive_count"],
            in_flight=row["invisible_until"] > self._clock(),
        )
