"""The Kinesis stand-in: a durable record stream in SQLite, with per-consumer checkpoints.

`LocalStream` stores records in SQLite (WAL, synchronous=FULL): once `put_record` returns, the
record survives a crash. Shards are chosen like Kinesis (MD5 of the partition key over the
128-bit hash key range split evenly), so one partition key always lands on one shard and its
records are read in order. Checkpoints are in SQLite too, so a consumer resumes after its last
checkpoint after a crash (at-least-once). The consumer that feeds the indexer from it is
`autotagger.local.event_source_mapping`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from autotagger.local.sqlite_util import Database

MAX_RECORD_BYTES = 1024 * 1024          # Kinesis: data blob up to 1 MiB
MAX_PARTITION_KEY_CHARS = 256           # Kinesis: 1..256 Unicode characters
_HASH_KEY_SPACE = 2 ** 128
_SEQ_WIDTH = 56                         # Kinesis sequence numbers are 56-digit decimal strings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    name        TEXT PRIMARY KEY,
    shard_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    stream        TEXT NOT NULL,
    shard_id      TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    data          BLOB NOT NULL,
    arrival       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_shard ON records (stream, shard_id, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT NOT NULL,
    stream   TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (consumer, stream, shard_id)
);
"""


class InvalidRecord(ValueError):
    """The record is not one Kinesis would accept (data too large, bad partition key)."""


def format_sequence_number(seq: int) -> str:
    return f"{seq:0{_SEQ_WIDTH}d}"


def shard_id_for_index(index: int) -> str:
    return f"shardId-{index:012d}"


@dataclass(frozen=True)
class StreamRecord:
    seq: int
    shard_id: str
    partition_key: str
    data: bytes
    arrival: float  # epoch seconds

    @property
    def sequence_number(self) -> str:
        return format_sequence_number(self.seq)


class LocalStream:
    """`ports.RecordStream` in SQLite. Safe to share between threads; several processes may put."""

    def __init__(self, db_path: str | os.PathLike[str], stream_name: str = "image-tagging", shard_count: int = 4, *,
                 region: str = "us-east-1", account: str = "000000000000", clock: Callable[[], float] = time.time,
                 retention_s: float = 24 * 3600.0):
        if shard_count < 1:
            raise ValueError("shard_count must be at least 1")
        self.name = stream_name
        self.region = region
        self.account = account
        self.arn = f"arn:aws:kinesis:{region}:{account}:stream/{stream_name}"
        self.retention_s = retention_s
        self._clock = clock
        self._db = Database(db_path)
        self._db.executescript(_SCHEMA)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT shard_count FROM streams WHERE name = ?", (stream_name,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO streams (name, shard_count) VALUES (?, ?)", (stream_name, shard_count))
            elif row["shard_count"] != shard_count:
                # Re-sharding would move partition keys between shards and break per-key order.
                raise ValueError(f"stream {stream_name!r} in {db_path} has {row['shard_count']} shards, "
                                 f"not {shard_count}")
        self.shard_count = shard_count
        self.shard_ids = [shard_id_for_index(i) for i in range(shard_count)]
        self._arrived = threading.Condition()

    # -- producing ----------------------------------------------------------------------------

    def shard_for(self, partition_key: str) -> str:
        """Kinesis maps MD5(partition key) as a 128-bit integer onto the shards' hash key ranges."""
        hash_key = int.from_bytes(hashlib.md5(partition_key.encode("utf-8"), usedforsecurity=False).digest(), "big")
        return self.shard_ids[min(hash_key // (_HASH_KEY_SPACE // self.shard_count), self.shard_count - 1)]

    def put_record(self, data: bytes, partition_key: str) -> dict[str, str]:
        return self.put_records([(data, partition_key)])[0]

    def put_records(self, records: Iterable[tuple[bytes, str]]) -> list[dict[str, str]]:
        """Appends records atomically (all or none), each to its partition key's shard."""
        rows = []
        for data, partition_key in records:
            self._validate(data, partition_key)
            rows.append((bytes(data), partition_key, self.shard_for(partition_key)))
        results = []
        with self._db.transaction() as conn:
            now = self._clock()
            for data, partition_key, shard_id in rows:
                cur = conn.execute(
                    "INSERT INTO records (stream, shard_id, partition_key, data, arrival) VALUES (?, ?, ?, ?, ?)",
                    (self.name, shard_id, partition_key, data, now),
                )
                assert cur.lastrowid is not None, "a successful INSERT always sets lastrowid"
                results.append({"SequenceNumber": format_sequence_number(cur.lastrowid), "ShardId": shard_id})
        self.wake()
        return results

    @staticmethod
    def _validate(data: Any, partition_key: Any) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidRecord(f"record data must be bytes, not {type(data).__name__}")
        if len(data) > MAX_RECORD_BYTES:
            raise InvalidRecord(f"record data is {len(data)} bytes; the limit is {MAX_RECORD_BYTES}")
        if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= MAX_PARTITION_KEY_CHARS:
            raise InvalidRecord(f"partition key must be 1..{MAX_PARTITION_KEY_CHARS} characters")
        try:
            partition_key.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRecord("partition key is not valid UTF-8") from None

    # -- reading and checkpoints ---------------------------------------------------------------

    def read(self, shard_id: str, after_seq: int, limit: int) -> list[StreamRecord]:
        rows = self._db.query(
            "SELECT * FROM records WHERE stream = ? AND shard_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (self.name, shard_id, after_seq, limit),
        )
        return [StreamRecord(r["seq"], r["shard_id"], r["partition_key"], bytes(r["data"]), r["arrival"]) for r in rows]

    def register_consumer(self, consumer: str) -> None:
        """Starts `consumer` at the oldest record of every shard (TRIM_HORIZON) unless it has
        checkpoints already."""
        with self._db.transaction() as conn:
            for shard_id in self.shard_ids:
                conn.execute("INSERT OR IGNORE INTO checkpoints (consumer, stream, shard_id, seq) VALUES (?, ?, ?, 0)",
                             (consumer, self.name, shard_id))

    def checkpoint(self, consumer: str, shard_id: str) -> int:
        row = self._db.query_one("SELECT seq FROM checkpoints WHERE consumer = ? AND stream = ? AND shard_id = ?",
                                 (consumer, self.name, shard_id))
        return 0 if row is None else int(row["seq"])

    def set_checkpoint(self, consumer: str, shard_id: str, seq: int) -> None:
        """Moves the checkpoint forward (never back: a late writer cannot re-open processed work).

        Committed with synchronous=NORMAL: a checkpoint lost in a power cut only re-delivers records,
        which the indexer's sequencer rule applies idempotently (the records themselves stay FULL)."""
        with self._db.transaction(synchronous="NORMAL") as conn:
            conn.execute(
                "INSERT INTO checkpoints (consumer, stream, shard_id, seq) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (consumer, stream, shard_id) DO UPDATE SET seq = max(seq, excluded.seq)",
                (consumer, self.name, shard_id, seq),
            )

    def pending(self, consumer: str) -> dict[str, int]:
        """Records after `consumer`'s checkpoint, per shard."""
        counts = {}
        for shard_id in self.shard_ids:
            row = self._db.query_one(
                "SELECT COUNT(*) AS n FROM records WHERE stream = ? AND shard_id = ? AND seq > ?",
                (self.name, shard_id, self.checkpoint(consumer, shard_id)))
            assert row is not None, "an aggregate without GROUP BY always returns one row"
            counts[shard_id] = int(row["n"])
        return counts

    def iterator_age_s(self, consumer: str) -> dict[str, float]:
        """How long the oldest unprocessed record of each shard has waited (0 when caught up);
        the local analogue of Kinesis' IteratorAgeMilliseconds."""
        now = self._clock()
        ages = {}
        for shard_id in self.shard_ids:
            row = self._db.query_one(
                "SELECT MIN(arrival) AS oldest FROM records WHERE stream = ? AND shard_id = ? AND seq > ?",
                (self.name, shard_id, self.checkpoint(consumer, shard_id)))
            assert row is not None, "an aggregate without GROUP BY always returns one row"
            ages[shard_id] = 0.0 if row["oldest"] is None else max(0.0, now - row["oldest"])
        return ages

    def trim(self) -> int:
        """Deletes records past retention that every registered consumer has checkpointed.

        Unlike Kinesis, a record nobody has consumed is never trimmed: nothing accepted is lost.
        """
        cutoff = self._clock() - self.retention_s
        with self._db.transaction() as conn:
            cur = conn.execute(
                "DELETE FROM records WHERE stream = ? AND arrival < ? AND seq <= ("
                " SELECT COALESCE(MIN(c.seq), 0) FROM checkpoints c"
                " WHERE c.stream = records.stream AND c.shard_id = records.shard_id)",
                (self.name, cutoff),
            )
            return cur.rowcount

    def wait_for_records(self, timeout_s: float) -> None:
        """Blocks until a record is put through this object, `wake()` is called or the timeout passes."""
        with self._arrived:
            self._arrived.wait(timeout_s)

    def wake(self) -> None:
        """Ends every `wait_for_records` now (a stopping consumer must not sit out its poll interval)."""
        with self._arrived:
            self._arrived.notify_all()

    def close(self) -> None:
        self._db.close()
