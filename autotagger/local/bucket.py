"""A bucket on disk that behaves like S3 for the calls this project makes.

Keys are data, never paths: an object's bytes live in `<data_dir>/objects/<sha256>` and its key
lives only in SQLite, so `../x`, `/abs`, `a b+c` or an emoji are stored as given and can never
name a file outside the data dir. Identical content is stored once.

Every accepted put survives a crash: the blob is fsynced and renamed into place, then the metadata
row is committed with `synchronous=FULL`. A blob becomes garbage when no row refers to it; it is
unlinked only under SQLite's write lock after the dereferencing commit, and a put renames its blob
and inserts its row under the same lock, so collection never races a put of the same content.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from autotagger.contracts import MAX_KEY_BYTES
from autotagger.local.sqlite_util import Database
from autotagger.ports import StoredObject

_TMP_PREFIX = ".tmp-"
_STALE_TMP_S = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    blob          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    sequencer     TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob);
CREATE TABLE IF NOT EXISTS sequencers (
    bucket TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS garbage (
    blob TEXT PRIMARY KEY
);
"""


class InvalidObjectKey(ValueError):
    """The key is not one S3 would accept (empty, not UTF-8, longer than 1024 bytes); HTTP 400."""

    def __init__(self, message: str, *, code: str = "InvalidArgument"):
        super().__init__(message)
        self.code = code


class NoSuchKey(KeyError):
    """The object does not exist (S3's NoSuchKey); HTTP 404."""

    code = "NoSuchKey"


class CorruptObject(RuntimeError):
    """The stored bytes no longer hash to the name they were stored under (disk damage)."""


def validate_key(key: object) -> str:
    """Returns the key if S3 would accept it; the only rules are S3's (any UTF-8, 1..1024 bytes)."""
    if not isinstance(key, str):
        raise InvalidObjectKey(f"object key must be a string, not {type(key).__name__}")
    if key == "":
        raise InvalidObjectKey("object key must not be empty")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidObjectKey(f"object key is not valid UTF-8 ({exc.reason} at position {exc.start})") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidObjectKey(
            f"object key is {len(encoded)} bytes of UTF-8; the limit is {MAX_KEY_BYTES}", code="KeyTooLongError"
        )
    return key


def _iso(epoch_s: float) -> str:
    now = datetime.fromtimestamp(epoch_s, UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class LocalBucket:
    """`ports.ObjectStore` on the local disk; safe to share between threads and processes."""

    def __init__(self, data_dir: str | os.PathLike[str], name: str, *, db_file: str = "bucket.sqlite3",
                 clock=time.time):
        if not name:
            raise ValueError("bucket name must not be empty")
        self.name = name
        self.data_dir = Path(data_dir)
        self.objects_dir = self.data_dir / "objects"
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._db = Database(self.data_dir / db_file)
        self._db.executescript(_SCHEMA)
        self.collect_garbage(full=True)

    # -- ObjectStore -------------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        validate_key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"object data must be bytes, not {type(data).__name__}")
        data = bytes(data)
        blob = hashlib.sha256(data).hexdigest()
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        tmp: Path | None  # None once the blob is in place: nothing left to clean up
        tmp = self._write_temp(data)
        try:
            with self._db.transaction() as conn:
                os.replace(tmp, self._blob_path(blob))
                tmp = None
                _fsync_dir(self.objects_dir)
                old = conn.execute("SELECT blob FROM objects WHERE bucket = ? AND key = ?",
                                   (self.name, key)).fetchone()
                sequencer = self._next_sequencer(conn)
                last_modified = _iso(self._clock())
                conn.execute(
                    "INSERT INTO objects (bucket, key, blob, size, etag, content_type, last_modified, sequencer)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (bucket, key) DO UPDATE SET blob = excluded.blob, size = excluded.size,"
                    " etag = excluded.etag, content_type = excluded.content_type,"
                    " last_modified = excluded.last_modified, sequencer = excluded.sequencer",
                    (self.name, key, blob, len(data), etag, content_type, last_modified, sequencer),
                )
                conn.execute("DELETE FROM garbage WHERE blob = ?", (blob,))
                if old is not None and old["blob"] != blob:
                    self._mark_if_unreferenced(conn, old["blob"])
        finally:
            if tmp is not None:
                _unlink_quietly(tmp)
        self.collect_garbage()
        return StoredObject(bucket=self.name, key=key, size=len(data), etag=etag, sequencer=sequencer,
                            last_modified=last_modified, content_type=content_type)

    def get(self, key: str) -> bytes:
        validate_key(key)
        for _ in range(2):
            row = self._row(key)
            if row is None:
                raise NoSuchKey(key)
            try:
                data = self._blob_path(row["blob"]).read_bytes()
                break
            except FileNotFoundError:
                # Overwritten or deleted (and collected) between reading the row and the blob:
                # read the row again.
                continue
        else:
            raise CorruptObject(f"the blob of s3://{self.name}/{key!r} is missing from {self.objects_dir}")
        if hashlib.sha256(data).hexdigest() != row["blob"]:
            raise CorruptObject(f"stored bytes of s3://{self.name}/{key!r} do not match their hash {row['blob']}")
        return data

    def head(self, key: str) -> StoredObject | None:
        validate_key(key)
        row = self._row(key)
        return None if row is None else self._to_stored(row)

    def delete(self, key: str) -> StoredObject | None:
        """Deletes the object; returns what S3 reports in the delete event (a new sequencer)."""
        validate_key(key)
        with self._db.transaction() as conn:
            row = conn.execute("SELECT * FROM objects WHERE bucket = ? AND key = ?", (self.name, key)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (self.name, key))
            self._mark_if_unreferenced(conn, row["blob"])
            deleted = StoredObject(bucket=self.name, key=key, size=row["size"], etag=row["etag"],
                                   sequencer=self._next_sequencer(conn), last_modified=_iso(self._clock()),
                                   content_type=row["content_type"])
        self.collect_garbage()
        return deleted

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Objects whose key starts with `prefix`, in UTF-8 byte order like S3's ListObjectsV2."""
        rows = self._db.query(
            "SELECT * FROM objects WHERE bucket = ? AND substr(key, 1, ?) = ? ORDER BY key",
            (self.name, len(prefix), prefix),
        )
        return [self._to_stored(row) for row in rows]

    # -- housekeeping ------------------------------------------------------------------------

    def collect_garbage(self, *, full: bool = False) -> int:
        """Unlinks blobs no object refers to; returns how many.

        `full` also sweeps the objects dir for leftovers of a crash (a blob renamed into place
        whose row never committed, a stale temp file) - done once when the bucket is opened.
        """
        removed = 0
        with self._db.transaction() as conn:
            candidates = [r["blob"] for r in conn.execute("SELECT blob FROM garbage")]
            if full:
                referenced = {r["blob"] for r in conn.execute("SELECT DISTINCT blob FROM objects")}
                for path in self.objects_dir.iterdir():
                    if path.name.startswith(_TMP_PREFIX):
                        if self._clock() - path.stat().st_mtime > _STALE_TMP_S:
                            _unlink_quietly(path)
                    elif path.name not in referenced:
                        candidates.append(path.name)
            for blob in candidates:
                in_use = conn.execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (blob,)).fetchone()
                if not in_use:
                    removed += _unlink_quietly(self._blob_path(blob))
                conn.execute("DELETE FROM garbage WHERE blob = ?", (blob,))
        return removed

    def blob_count(self) -> int:
        return sum(1 for p in self.objects_dir.iterdir() if not p.name.startswith(_TMP_PREFIX))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LocalBucket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _row(self, key: str):
        return self._db.query_one("SELECT * FROM objects WHERE bucket = ? AND key = ?", (self.name, key))

    def _to_stored(self, row) -> StoredObject:
        return StoredObject(bucket=self.name, key=row["key"], size=row["size"], etag=row["etag"],
                            sequencer=row["sequencer"], last_modified=row["last_modified"],
                            content_type=row["content_type"])

    def _blob_path(self, blob: str) -> Path:
        return self.objects_dir / blob

    def _write_temp(self, data: bytes) -> Path:
        fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=self.objects_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _unlink_quietly(Path(name))
            raise
        return Path(name)

    def _next_sequencer(self, conn) -> str:
        """A strictly increasing hex string per bucket, like S3's sequencer.

        Microseconds since the epoch, bumped past the last one issued (which is persisted), so
        it keeps increasing across restarts and even if the clock steps back.
        """
        row = conn.execute("SELECT last FROM sequencers WHERE bucket = ?", (self.name,)).fetchone()
        last = row["last"] if row else 0
        value = max(last + 1, int(self._clock() * 1_000_000))
        conn.execute(
            "INSERT INTO sequencers (bucket, last) VALUES (?, ?)"
            " ON CONFLICT (bucket) DO UPDATE SET last = excluded.last",
            (self.name, value),
        )
        return f"{value:018X}"

    def _mark_if_unreferenced(self, conn, blob: str) -> None:
        in_use = conn.execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (blob,)).fetchone()
        if not in_use:
            conn.execute("INSERT OR IGNORE INTO garbage (blob) VALUES (?)", (blob,))


def _fsync_dir(path: Path) -> None:
    """Makes a rename in `path` durable (POSIX needs the directory itself fsynced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> int:
    try:
        os.unlink(path)
        return 1
    except FileNotFoundError:
        return 0
