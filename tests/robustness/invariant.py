"""The invariant every robustness test checks, against the durable state of a local run.

    For every accepted (acknowledged) upload, exactly one of:
      (a) one current document in the index (the newest accepted version of its key), or
      (b) a dead letter with the original event and a human-readable reason;
    an upload overwritten by a newer one of the same key may instead have been superseded, but
    its run must have ended (SUCCEEDED or dead-lettered), never vanished.
    No duplicates (one document per key, at most one dead letter per object version), no
    silent loss, and no older version overwriting a newer one (the document's sequencer is the
    bucket's current one). A deleted key has no document, or a dead letter for its delete.

The check reads the data directory (bucket, index, dead-letter queues, executions, stream and
outbox) through `LocalStores`, so it works on a pipeline in this process or on the data dir a
(killed) server left behind. `Ledger` is what the client saw acknowledged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotagger.domain.documents import MalformedRecord, document_id, sequencer_key
from autotagger.local.stores import RUNTIME_DB


@dataclass(frozen=True)
class Ack:
    kind: str  # "upload" | "delete"
    key: str
    etag: str | None = None  # MD5 of the body for uploads, as S3 answers


class Ledger:
    """Acknowledged operations, in the order the client saw them answered (thread-safe)."""

    def __init__(self) -> None:
        self.acks: list[Ack] = []
        self.unanswered: set[str] = set()  # keys sent whose answer may have been lost (a crash mid-request)
        self._lock = threading.Lock()

    def attempted(self, key: str, body: bytes) -> None:
        """An upload sent; if it was stored and its answer was lost, the system may still tag it."""
        with self._lock:
            self.unanswered.add(key)

    def uploaded(self, key: str, body: bytes) -> None:
        with self._lock:
            self.acks.append(Ack("upload", key, hashlib.md5(body).hexdigest()))

    def deleted(self, key: str) -> None:
        with self._lock:
            self.acks.append(Ack("delete", key))

    def keys(self) -> list[str]:
        return list(dict.fromkeys(a.key for a in self.acks))

    def uploads(self) -> list[Ack]:
        return [a for a in self.acks if a.kind == "upload"]


@dataclass
class Letter:
    queue: str
    message_id: str
    action: str  # "upsert" | "delete" | "unknown"
    key: str | None
    sequencer: str | None
    etag: str | None
    error: Any
    cause: Any


@dataclass
class Report:
    indexed: list[str] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    superseded: int = 0
    unacknowledged: list[str] = field(default_factory=list)  # stored but never acknowledged (a crash mid-request)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.indexed)} indexed, {len(self.dead_lettered)} dead-lettered, {len(self.deleted)} deleted, "
                f"{self.superseded} superseded, {len(self.unacknowledged)} unacknowledged, "
                f"{len(self.violations)} violation(s)")


def _record_letters(message: Any) -> list[Letter]:
    body = json.loads(message.body)
    letters = []
    for record in body.get("records") or []:
        try:
            data = json.loads(base64.b64decode(record["data"]))
        except (KeyError, TypeError, ValueError, binascii.Error):
            data = {}
        data = data if isinstance(data, dict) else {}
        letters.append(Letter("indexer", message.message_id, data.get("action", "unknown"), data.get("key"),
                              data.get("sequencer"), data.get("etag"), body.get("error"), body.get("cause")))
    return letters


def _workflow_letter(message: Any) -> Letter:
    body = json.loads(message.body)
    event = body.get("event") if isinstance(body, dict) else None
    detail = (event or {}).get("detail") or {} if isinstance(event, dict) else {}
    obj = detail.get("object") or {} if isinstance(detail, dict) else {}
    action = {"Object Created": "upsert", "Object Deleted": "delete"}.get((event or {}).get("detail-type"), "unknown")
    return Letter("workflow", message.message_id, action, obj.get("key"), obj.get("sequencer"), obj.get("etag"),
                  body.get("error"), body.get("cause"))


def _readable(text: Any) -> bool:
    return isinstance(text, str) and len(text.strip()) >= 3


def outbox_pending(data_dir: Path) -> int:
    path = Path(data_dir) / RUNTIME_DB
    if not path.exists():
        return 0
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM pending_executions").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def stream_pending(data_dir: Path, consumer: str = "indexer") -> int:
    """Stream records the indexer has not consumed, read straight from the file (no writer needed)."""
    from autotagger.local.stores import STREAM_DB

    path = Path(data_dir) / STREAM_DB
    if not path.exists():
        return 0
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            return int(conn.execute(
                "SELECT COUNT(*) FROM records r WHERE r.seq > COALESCE((SELECT c.seq FROM checkpoints c "
                "WHERE c.consumer = ? AND c.stream = r.stream AND c.shard_id = r.shard_id), 0)",
                (consumer,)).fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def settled(stores: Any) -> bool:
    """No accepted work left: outbox empty, nothing RUNNING, stream consumed."""
    return (outbox_pending(stores.data_dir) == 0 and not stores.executions.running()
            and stores.stream_records_pending() == 0)


def wait_settled(stores: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not settled(stores):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def check(stores: Any, ledger: Ledger) -> Report:
    """Checks the invariant for every key in `ledger`; returns what became of them and any violations."""
    report = Report()
    bucket_name = stores.bucket.name
    if outbox_pending(stores.data_dir):
        report.violations.append(f"{outbox_pending(stores.data_dir)} accepted execution(s) still pending in the outbox")
    if stores.executions.running():
        report.violations.append(f"{len(stores.executions.running())} execution(s) still RUNNING")
    if stores.stream_records_pending():
        report.violations.append(f"{stores.stream_records_pending()} stream record(s) never consumed")

    letters = [_workflow_letter(m) for m in stores.workflow_dlq.list(limit=1_000_000)]
    letters += [letter for m in stores.indexer_dlq.list(limit=1_000_000) for letter in _record_letters(m)]
    for letter in letters:
        if not (_readable(letter.error) and _readable(letter.cause)):
            report.violations.append(f"dead letter {letter.message_id} ({letter.queue}) has no readable reason: "
                                     f"error={letter.error!r} cause={letter.cause!r}")
        if letter.queue == "workflow" and letter.key is None:
            report.violations.append(f"dead letter {letter.message_id} does not carry the original event")
    by_version: dict[tuple[str | None, str | None, str], list[Letter]] = {}
    for letter in letters:
        by_version.setdefault((letter.key, letter.sequencer, letter.action), []).append(letter)
    for (key, sequencer, action), found in by_version.items():
        if key is not None and len(found) > 1:
            report.violations.append(f"{len(found)} dead letters for one {action} of {key!r} (sequencer {sequencer}): "
                                     f"{[letter.message_id for letter in found]}")

    executions = stores.executions.list(limit=1_000_000)
    ended_by_etag: dict[tuple[str, str], list[str]] = {}
    for execution in executions:
        try:
            obj = json.loads(execution["input"])["detail"]["object"]
        except (TypeError, ValueError, KeyError):
            continue
        ended_by_etag.setdefault((obj.get("key"), obj.get("etag")), []).append(execution["status"])

    documents = 0
    for key in ledger.keys():  # noqa: SIM118 - a Ledger, not a dict: keys() is its own method
        head = stores.bucket.head(key)
        doc = stores.index.get(document_id(bucket_name, key))
        documents += doc is not None
        acked = [a for a in ledger.acks if a.key == key]
        if head is None:
            delete_letters = [letter for letter in letters if letter.key == key and letter.action == "delete"]
            if doc is not None and not delete_letters:
                report.violations.append(f"{key!r} is gone from the bucket but its document is still indexed "
                                         f"(sequencer {doc.get('sequencer')}) and no dead letter explains why")
            elif any(a.kind == "upload" for a in acked):
                report.deleted.append(key)
        else:
            version = (key, head.sequencer, "upsert")
            own_letters = by_version.get(version, [])
            if head.etag not in {a.etag for a in acked if a.kind == "upload"}:
                report.unacknowledged.append(key)
            if doc is not None and doc.get("sequencer") == head.sequencer:
                if doc.get("etag") != head.etag:
                    report.violations.append(f"{key!r}: the document's etag {doc.get('etag')} is not the object's "
                                             f"{head.etag}")
                if own_letters:
                    report.violations.append(f"{key!r} is both indexed and dead-lettered "
                                             f"({[letter.message_id for letter in own_letters]})")
                report.indexed.append(key)
            elif doc is not None and _newer(doc.get("sequencer"), head.sequencer):
                report.violations.append(f"{key!r}: the index holds sequencer {doc.get('sequencer')}, newer than the "
                                         f"bucket's {head.sequencer}")
            elif own_letters:
                report.dead_lettered.append(key)
            elif key not in report.unacknowledged:
                shown = "nothing" if doc is None else f"an older version (sequencer {doc.get('sequencer')})"
                report.violations.append(f"{key!r} (sequencer {head.sequencer}) was lost: the index shows {shown} "
                                         f"and no dead letter names it")
        # Older accepted versions: superseded, but their run must have ended.
        current_etag = head.etag if head is not None else None
        for etag in dict.fromkeys(a.etag for a in acked if a.kind == "upload"):
            if etag == current_etag:
                continue
            statuses = ended_by_etag.get((key, etag), [])
            lettered = any(letter.key == key and letter.etag == etag for letter in letters)
            if "SUCCEEDED" in statuses or lettered:
                report.superseded += 1
            else:
                report.violations.append(f"an accepted upload of {key!r} (etag {etag}) never ended: executions "
                                         f"{statuses or 'none'}, no dead letter")

    for key in ledger.unanswered - set(ledger.keys()):
        if stores.index.get(document_id(bucket_name, key)) is not None:
            documents += 1  # sent, stored and tagged; only its answer was lost to the crash
            report.unacknowledged.append(key)
    total = stores.index.search(limit=0)["total"]
    if total != documents:
        report.violations.append(f"the index holds {total} document(s), but only {documents} belong to accepted keys")
    return report


def _newer(a: Any, b: Any) -> bool:
    """True when sequencer `a` is strictly newer than `b`, by the index's own rule."""
    try:
        return sequencer_key(a) > sequencer_key(b)
    except MalformedRecord:
        return False


def assert_invariant(stores: Any, ledger: Ledger) -> Report:
    report = check(stores, ledger)
    assert not report.violations, f"{report.summary()}:\n  " + "\n  ".join(report.violations)
    return report


def files_outside(root: Path, before: set[Path], data_dir: Path, allowed: tuple[Path, ...] = ()) -> list[Path]:
    """Files under `root` that appeared since `before` and are neither in `data_dir` nor `allowed`."""
    data_dir = data_dir.resolve()
    found = []
    for path in root.rglob("*"):
        resolved = path.resolve()
        if resolved in before or path.is_dir():
            continue
        if resolved.is_relative_to(data_dir) or any(resolved.is_relative_to(a.resolve()) for a in allowed):
            continue
        found.append(path)
    return found
