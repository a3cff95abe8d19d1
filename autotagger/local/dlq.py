"""Durable dead-letter queues (the SQS stand-in) you can list and redrive.

A dead letter is the only trace of work that failed for good, so it is kept like accepted data:
SQLite in WAL mode with synchronous=FULL, one row per message, until someone removes it.

Redrive must not start the same work twice, so it follows SQS's receive/delete protocol: `claim`
hides a message for a visibility timeout and counts the receive; only the claimant then removes it
after re-submitting; if the re-submission fails (or the process dies) the claim lapses and the
message is visible again. A second redrive of a claimed or removed message gets nothing to do.
Passing `message_id` to the re-submission as its idempotency key (the execution name) closes the
last gap, a crash between re-submitting and removing.

Each letter is also indexed by the S3 objects it is about (`dead_letter_objects`), so "was this
upload dead-lettered, and why?" is one indexed lookup (`about`) however many letters wait.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
CREATE TABLE IF NOT EXISTS dead_letter_objects (
    message_id TEXT NOT NULL REFERENCES dead_letters (message_id) ON DELETE CASCADE,
    bucket     TEXT NOT NULL,
    object_key TEXT NOT NULL,
    sequencer  TEXT NOT NULL,  -- '' when the letter does not say
    PRIMARY KEY (bucket, object_key, sequencer, message_id)
);
CREATE INDEX IF NOT EXISTS dead_letter_objects_by_message ON dead_letter_objects (message_id);
"""
# PRAGMA user_version from which every letter has its dead_letter_objects rows (older files are
# indexed once when opened).
_OBJECTS_INDEXED = 1

# The letters of a queue about one object: a search of dead_letter_objects' primary key, never a scan.
ABOUT_OBJECT_SQL = ("SELECT DISTINCT d.* FROM dead_letter_objects o JOIN dead_letters d USING (message_id)"
                    " WHERE o.bucket = ? AND o.object_key = ? AND d.queue = ?")
MAX_BODY_BYTES = 256 * 1024  # SQS's limit; a body that large is a bug upstream, not a dead letter


@dataclass
class QueuedDeadLetter(DeadLetter):
    """A dead letter as the queue holds it: also how often it was received (claimed) and whether a
    claim currently hides it."""

    receive_count: int = 0
    in_flight: bool = False


def objects_of(body: str) -> set[tuple[str, str, str]]:
    """(bucket, key, sequencer) of each S3 object a dead letter body is about.

    The workflow's letter carries the object's S3 event ({"event": {"detail": {"bucket": {"name"},
    "object": {"key", "sequencer"}}}}); the indexer's carries the stream records of the failed
    batch ({"records": [{"data": base64 of the stream record {"bucket", "key", "sequencer"}}]}).
    Anything else is about no object."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return set()
    if not isinstance(parsed, dict):
        return set()
    found: set[tuple[str, str, str]] = set()
    detail = (parsed.get("event") or {}).get("detail") if isinstance(parsed.get("event"), dict) else None
    if isinstance(detail, dict):
        bucket, obj = detail.get("bucket") or {}, detail.get("object") or {}
        if isinstance(bucket, dict) and isinstance(obj, dict):
            found.add(_object(bucket.get("name"), obj.get("key"), obj.get("sequencer")))
    records = parsed.get("records")
    for record in records if isinstance(records, list) else ():
        try:
            data = json.loads(base64.b64decode(record["data"], validate=True))
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
        if isinstance(data, dict):
            found.add(_object(data.get("bucket"), data.get("key"), data.get("sequencer")))
    return {o for o in found if o[0] and o[1]}


def _object(bucket: object, key: object, sequencer: object) -> tuple[str, str, str]:
    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return text(bucket), text(key), text(sequencer)


def _iso(epoch_s: float) -> str:
    now = datetime.fromtimestamp(epoch_s, UTC)
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
        self._index_older_letters()

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
            _index_objects(conn, message_id, body)
        return message_id

    def about(self, bucket: str, key: str, sequencer: str | None = None) -> list[QueuedDeadLetter]:
        """The letters of this queue about object `bucket/key` (its version `sequencer` only, when
        given), newest first: an index lookup, never a scan of the queue."""
        query = ABOUT_OBJECT_SQL
        params: list[Any] = [bucket, key, self.name]
        if sequencer is not None:
            query += " AND o.sequencer = ?"
            params.append(sequencer)
        return [self._to_letter(row) for row in self._db.query(query + " ORDER BY d.seq DESC", params)]

    # After every annotation naming the builtin `list`: past this def the class body's `list` is the method.
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
        assert row is not None, "an aggregate without GROUP BY always returns one row"
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

    def _index_older_letters(self) -> None:
        """Gives letters written before `dead_letter_objects` existed their rows, once per file."""
        with self._db.transaction() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= _OBJECTS_INDEXED:
                return
            for message_id, body in conn.execute("SELECT message_id, body FROM dead_letters").fetchall():
                _index_objects(conn, message_id, body)
            conn.execute(f"PRAGMA user_version = {_OBJECTS_INDEXED}")

    def _to_letter(self, row) -> QueuedDeadLetter:
        return QueuedDeadLetter(
            message_id=row["message_id"], body=row["body"], sent_at=row["sent_at"], queue=row["queue"],
            attributes=json.loads(row["attributes"]), receive_count=row["receive_count"],
            in_flight=row["invisible_until"] > self._clock(),
        )


def _index_objects(conn: Any, message_id: str, body: str) -> None:
    conn.executemany("INSERT OR IGNORE INTO dead_letter_objects (message_id, bucket, object_key, sequencer)"
                     " VALUES (?, ?, ?, ?)", [(message_id, *obj) for obj in sorted(objects_of(body))])
