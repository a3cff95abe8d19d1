"""The embedded ImageIndex: one SQLite file, safe for a server reading while the stream writes.

Documents are stored whole (JSON) next to the columns the queries need. Tags live in a normalised
table keyed by small integers and indexed by (tag, time, confidence, tagset) and (tag, confidence);
each tag row also carries the document's whole tag set with each tag's whole confidence points, so
a search for several tags checks the other tags inside one index scan. Counters of live images (per
tag, per tag and confidence point, per tag and hour, per hour) change in the same transaction as
the documents, so the dashboard's usual questions (top tags, tags this week, images per day, one
tag's images) are answered without scanning 100,000 rows; only partial hours at the ends of a time
range are counted row by row.
Each thread gets its own connection; WAL lets readers run during a write. A delete keeps a
tombstone row with its sequencer: tombstones have no tags and are excluded from every query.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autotagger.contracts import MODERATION_THRESHOLD
from autotagger.domain.documents import sequencer_key, tag_confidences, tombstone_for
from autotagger.errors import UserError
from autotagger.index.query import SearchSpec, fold, to_ms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  doc INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sequencer_key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  event_ms INTEGER NOT NULL,
  hour_ms INTEGER NOT NULL,
  max_confidence REAL NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_time ON documents(deleted, event_ms, id);
CREATE INDEX IF NOT EXISTS documents_by_hour ON documents(deleted, hour_ms, max_confidence, event_ms);
CREATE INDEX IF NOT EXISTS documents_by_moderation
  ON documents(deleted, json_extract(body, '$.moderation.max_confidence'));
CREATE INDEX IF NOT EXISTS documents_by_analysis_errors
  ON documents(deleted, json_array_length(body, '$.analysis_errors'));
CREATE TABLE IF NOT EXISTS tag_names (
  tag_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  folded TEXT NOT NULL,
  live INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tag_names_by_folded ON tag_names(folded);
CREATE TABLE IF NOT EXISTS tags (
  doc INTEGER NOT NULL,
  tag_id INTEGER NOT NULL,
  confidence REAL NOT NULL,
  event_ms INTEGER NOT NULL,
  tagset TEXT NOT NULL,
  PRIMARY KEY (doc, tag_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_time ON tags(tag_id, event_ms, confidence, tagset);
CREATE INDEX IF NOT EXISTS tags_by_confidence ON tags(tag_id, confidence, event_ms);
CREATE TABLE IF NOT EXISTS tag_confidence (
  tag_id INTEGER NOT NULL,
  floor_confidence INTEGER NOT NULL,
  live INTEGER NOT NULL,
  PRIMARY KEY (tag_id, floor_confidence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tag_hourly (
  tag_id INTEGER NOT NULL,
  hour_ms INTEGER NOT NULL,
  live INTEGER NOT NULL,
  PRIMARY KEY (tag_id, hour_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hourly (
  hour_ms INTEGER PRIMARY KEY,
  live INTEGER NOT NULL
);
"""

SCHEMA_VERSION = 5
_MIGRATIONS = {
    # 4 -> 5: the documents' moderation and analysis errors are counted (`analysis_counts`) by the
    # two expression indexes the schema adds; documents from before have neither and count as 0.
    4: lambda conn: (),
    # 3 -> 4: tags match case-insensitively (tag_names.folded) and ties in time are ordered by id.
    3: lambda conn: (
        conn.execute("ALTER TABLE tag_names ADD COLUMN folded TEXT NOT NULL DEFAULT ''"),
        conn.executemany(
            "UPDATE tag_names SET folded = ? WHERE tag_id = ?",
            [(fold(name), tag_id) for tag_id, name in conn.execute("SELECT tag_id, name FROM tag_names")],
        ),
        conn.execute("DROP INDEX IF EXISTS documents_by_time"),
    ),
}
HOUR_MS = 3_600_000
INTERVALS = ("hour", "day", "week", "month")
_MIN_MS, _MAX_MS = -(2**62), 2**62


_BUCKET_SQL = {  # bucket start in ms from a time h in ms (1970-01-05 was a Monday: weeks start there)
    "hour": "h - h % 3600000",
    "day": "h - h % 86400000",
    "week": "h - (h - 345600000) % 604800000",
    "month": "CAST(strftime('%s', h / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000",
}


def _point(confidence: float) -> str:
    """Whole confidence points as three digits (clamped to 000..999), so they compare as text."""
    return "000" if not confidence >= 0 else "999" if confidence >= 999 else f"{int(confidence):03d}"


def _tagset(tags: list[tuple[int, float]]) -> str:
    """ ",3:097,17:055,42:100,": every tag of the document with its whole confidence points, on each
    of its tag rows, so an all-tags search checks the other tags (and, but at the boundary point, their
    confidence) with instr()/substr() inside one index scan instead of a lookup per candidate."""
    return "," + ",".join(f"{tag_id}:{_point(confidence)}" for tag_id, confidence in sorted(tags)) + ","


def _has_tag(tag_id: int, min_confidence: float) -> tuple[str, list[Any]]:
    """SQL condition on the tag row t: the document also has `tag_id` with at least min_confidence.
    The tagset decides whenever the tag's whole points differ from min_confidence's; only on the
    same point (and only when min_confidence has a fraction) is the exact confidence looked up."""
    pattern = f",{tag_id}:"
    present = "instr(t.tagset, ?) > 0"
    if min_confidence <= 0:
        return present, [pattern]
    point = f"substr(t.tagset, instr(t.tagset, ?) + {len(pattern)}, 3)"
    floor = _point(min_confidence)
    if min_confidence == int(min_confidence) and 1 <= min_confidence <= 998:
        return f"{present} AND {point} >= ?", [pattern, pattern, floor]
    exact = "EXISTS (SELECT 1 FROM tags o WHERE o.doc = t.doc AND o.tag_id = ? AND o.confidence >= ?)"
    return (
        f"{present} AND ({point} > ? OR ({point} = ? AND {exact}))",
        [pattern, pattern, floor, pattern, floor, tag_id, min_confidence],
    )


def _chunks(values: list, size: int = 500) -> Iterator[list]:
    """Pieces small enough for one statement's parameters (SQLite allows 999 in older builds)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


def _page_end(end: int, spec: SearchSpec) -> int:
    """The exclusive upper bound of event_ms for the page: the range's, or just past the cursor's time."""
    return end if spec.after is None else min(end, spec.after[0] + 1)


def _hour(ms: int) -> int:
    return ms - ms % HOUR_MS


def _ranked(conn: sqlite3.Connection, counts: dict[int, int], top: int) -> list[tuple[str, int]]:
    """(name, count) of the `top` most frequent tag ids, ties by name."""
    names = dict(conn.execute("SELECT tag_id, name FROM tag_names"))
    ranked = sorted(
        ((names[tag_id], count) for tag_id, count in counts.items() if count > 0), key=lambda item: (-item[1], item[0])
    )
    return ranked[:top]


class _Deltas:
    """Counter changes of one batch, written with one statement per counter table."""

    def __init__(self) -> None:
        self.tags: Counter = Counter()
        self.confidences: Counter = Counter()
        self.hours: Counter = Counter()
        self.tag_hours: Counter = Counter()
        self.new_tag_ids: dict[str, int] = {}

    def count(self, tags: list[tuple[int, float]], hour_ms: int | None, sign: int) -> None:
        for tag_id, confidence in tags:
            self.tags[tag_id] += sign
            self.confidences[(tag_id, int(confidence))] += sign
        if hour_ms is not None:
            self.hours[hour_ms] += sign
            for tag_id, _ in tags:
                self.tag_hours[(hour_ms, tag_id)] += sign

    def write(self, conn: sqlite3.Connection) -> None:
        conn.executemany(
            "UPDATE tag_names SET live = live + ? WHERE tag_id = ?",
            [(n, tag_id) for tag_id, n in self.tags.items() if n],
        )
        conn.executemany(
            "INSERT INTO tag_confidence (tag_id, floor_confidence, live) VALUES (?, ?, ?) "
            "ON CONFLICT(tag_id, floor_confidence) DO UPDATE SET live = live + excluded.live",
            [(tag_id, floor, n) for (tag_id, floor), n in self.confidences.items() if n],
        )
        conn.executemany(
            "INSERT INTO tag_hourly (tag_id, hour_ms, live) VALUES (?, ?, ?) "
            "ON CONFLICT(tag_id, hour_ms) DO UPDATE SET live = live + excluded.live",
            [
                (tag_id, hour_ms, n)
                for (hour_ms, tag_id), n in sorted(self.tag_hours.items(), key=lambda item: item[0][::-1])
                if n
            ],
        )
        conn.executemany(
            "INSERT INTO hourly (hour_ms, live) VALUES (?, ?) "
            "ON CONFLICT(hour_ms) DO UPDATE SET live = live + excluded.live",
            [(hour_ms, n) for hour_ms, n in self.hours.items() if n],
        )


class SQLiteIndex:
    """ImageIndex on a SQLite file (created on first use)."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0):
        self.path = str(path)
        self._timeout = timeout
        self._local = threading.local()
        self._open: list[sqlite3.Connection] = []
        self._generation = 0
        self._lock = threading.Lock()
        self._tag_ids_seen: dict[str, int] = {}
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._open_schema(self._connection())

    def _open_schema(self, conn: sqlite3.Connection) -> None:
        """Creates the schema in a new file and migrates an older one in place, in one transaction
        (the first of several processes opening an old file migrates it, the others wait)."""
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return  # no write lock needed to open a current file
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION) and version not in _MIGRATIONS:
                raise UserError(
                    f"{self.path} holds an index of schema {version}, this version needs "
                    f"{SCHEMA_VERSION}: move the file away and re-index"
                )
            while version in _MIGRATIONS:
                _MIGRATIONS[version](conn)
                version += 1
            for statement in _SCHEMA.split(";"):  # executescript would commit the transaction
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (again after close())."""
        local = self._local
        if getattr(local, "generation", None) != self._generation or local.conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                self._open.append(conn)
                local.conn, local.generation = conn, self._generation
        return local.conn

    def close(self) -> None:
        """Closes the connections of every thread; a later call opens fresh ones."""
        with self._lock:
            connections, self._open = self._open, []
            self._generation += 1
        for conn in connections:
            conn.close()

    # -- writes -----------------------------------------------------------------------------

    def apply(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """All actions in one transaction, each compared with the stored sequencer first (and with the
        batch's earlier actions on the same id, as if applied one by one). Stored rows, old tags and
        new tag ids are read once per batch; each document is then written once, in its final state,
        and the counters once per batch from the summed changes."""
        now = datetime.now(UTC)
        prepared = [self._prepare(action, now) for action in actions]
        conn = self._connection()
        deltas = _Deltas()
        try:
            conn.execute("BEGIN IMMEDIATE")
            results = self._apply_batch(conn, actions, prepared, deltas)
            deltas.write(conn)
            conn.execute("COMMIT")
            self._tag_ids_seen.update(deltas.new_tag_ids)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [{"id": action.get("id"), "status": "error", "error": f"sqlite: {exc}"} for action in actions]
        return results

    def _prepare(self, action: dict[str, Any], now: datetime) -> tuple | str:
        """(id, sequencer key, deleted, event_ms, tags, body) of a valid action, else the error message."""
        doc_id = action.get("id")
        try:
            if not isinstance(doc_id, str) or not doc_id:
                raise ValueError("id must be a non-empty string")
            new_key = sequencer_key(action["sequencer"])
            if action["action"] == "upsert":
                document = dict(action["document"], id=doc_id)
            elif action["action"] == "delete":
                document = tombstone_for(action, now)
            else:
                raise ValueError(f"unknown action {action['action']!r}")
            deleted = bool(document.get("deleted"))
            event_ms = to_ms(document.get("event_time"), 0)
            tags = [] if deleted else self._tags(document)
            body = json.dumps(document, separators=(",", ":"))
        except (KeyError, TypeError, ValueError) as exc:
            return f"invalid action: {exc}"
        return doc_id, new_key, deleted, event_ms, tags, body

    def _apply_batch(
        self, conn: sqlite3.Connection, actions: list[dict[str, Any]], prepared: list[tuple | str], deltas: _Deltas
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        stored = self._stored(conn, list(dict.fromkeys(p[0] for p in prepared if not isinstance(p, str))))
        final: dict[str, tuple] = {}  # id -> the prepared action that wins, in the order they applied
        for action, item in zip(actions, prepared, strict=True):
            if isinstance(item, str):
                results.append({"id": action.get("id"), "status": "error", "error": item})
                continue
            doc_id, new_key = item[0], item[1]
            current = final[doc_id][1] if doc_id in final else stored[doc_id][1] if doc_id in stored else None
            if current is not None and new_key < current:
                results.append({"id": doc_id, "status": "stale"})
                continue
            final[doc_id] = item  # a document new to the index keeps the position of its first action
            results.append({"id": doc_id, "status": "applied"})
        if not final:
            return results
        replaced = {stored[doc_id][0]: stored[doc_id] for doc_id in final if doc_id in stored}
        old_tags: dict[int, list[tuple[int, float]]] = {}
        for chunk in _chunks(list(replaced)):
            for doc, tag_id, confidence in conn.execute(
                f"SELECT doc, tag_id, confidence FROM tags WHERE doc IN ({_marks(chunk)})", chunk
            ):
                old_tags.setdefault(doc, []).append((tag_id, confidence))
        for doc, (_, _, was_deleted, old_hour) in replaced.items():
            deltas.count(old_tags.get(doc, []), None if was_deleted else old_hour, -1)
        conn.executemany("DELETE FROM tags WHERE doc = ?", [(doc,) for doc in replaced if doc in old_tags])
        tag_ids = self._tag_ids_for(conn, [tag for item in final.values() for tag, _ in item[4]], deltas)
        next_doc = conn.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM documents").fetchone()[0]
        documents, tag_rows = [], []
        for doc_id, (_, new_key, deleted, event_ms, tags, body) in final.items():
            if doc_id in stored:
                doc = stored[doc_id][0]
            else:
                doc, next_doc = next_doc, next_doc + 1
            max_confidence = max((confidence for _, confidence in tags), default=0.0)
            documents.append((doc, doc_id, new_key, int(deleted), event_ms, _hour(event_ms), max_confidence, body))
            if not deleted:
                new_tags = [(tag_ids[tag], confidence) for tag, confidence in tags]
                tagset = _tagset(new_tags)
                tag_rows += [(doc, tag_id, confidence, event_ms, tagset) for tag_id, confidence in new_tags]
                deltas.count(new_tags, _hour(event_ms), +1)
        conn.executemany(
            "INSERT INTO documents (doc, id, sequencer_key, deleted, event_ms, hour_ms, max_confidence, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET sequencer_key = excluded.sequencer_key, "
            "deleted = excluded.deleted, event_ms = excluded.event_ms, hour_ms = excluded.hour_ms, "
            "max_confidence = excluded.max_confidence, body = excluded.body",
            documents,
        )
        conn.executemany(
            "INSERT INTO tags (doc, tag_id, confidence, event_ms, tagset) VALUES (?, ?, ?, ?, ?)", tag_rows
        )
        return results

    @staticmethod
    def _stored(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, str, int, int]]:
        """id -> (doc, sequencer key, deleted, hour_ms) of the stored rows among `ids`."""
        found = {}
        for chunk in _chunks(ids):
            for doc_id, *row in conn.execute(
                f"SELECT id, doc, sequencer_key, deleted, hour_ms FROM documents WHERE id IN ({_marks(chunk)})", chunk
            ):
                found[doc_id] = tuple(row)
        return found

    def _tag_ids_for(self, conn: sqlite3.Connection, names: list[str], deltas: _Deltas) -> dict[str, int]:
        """name -> tag id, creating the missing names in order of first appearance. Committed tag ids
        are never changed or deleted, so they are remembered per process; ids made inside a batch are
        remembered only once it commits."""
        names = list(dict.fromkeys(names))
        missing = [name for name in names if name not in self._tag_ids_seen]
        if missing:
            conn.executemany(
                "INSERT OR IGNORE INTO tag_names (name, folded, live) VALUES (?, ?, 0)", [(n, fold(n)) for n in missing]
            )
            for chunk in _chunks(missing):
                deltas.new_tag_ids.update(
                    conn.execute(f"SELECT name, tag_id FROM tag_names WHERE name IN ({_marks(chunk)})", chunk)
                )
        return {name: self._tag_ids_seen.get(name) or deltas.new_tag_ids[name] for name in names}

    @staticmethod
    def _tags(document: dict[str, Any]) -> list[tuple[str, float]]:
        """The document's tags with their label's confidence (a tag without a label counts as 100)."""
        confidences = tag_confidences(document.get("labels") or [], threshold=-math.inf)
        return [(tag, confidences.get(tag, 100.0)) for tag in dict.fromkeys(document.get("tags") or [])]

    # -- reads ------------------------------------------------------------------------------

    def get(self, doc_id: str) -> dict[str, Any] | None:
        row = (
            self._connection().execute("SELECT body FROM documents WHERE id = ? AND deleted = 0", (doc_id,)).fetchone()
        )
        return json.loads(row[0]) if row else None

    def count(self) -> int:
        """Live (not deleted) images."""
        return self._live_between(_MIN_MS, _MAX_MS)

    def analysis_counts(self) -> dict[str, int]:
        """Live images flagged by moderation and with a failed optional analysis; each count is one
        scan of its expression index (the expressions are written exactly as the index has them)."""
        conn = self._connection()
        flagged = conn.execute(
            "SELECT COUNT(*) FROM documents WHERE deleted = 0 "
            "AND json_extract(body, '$.moderation.max_confidence') >= ?", (MODERATION_THRESHOLD,)).fetchone()[0]
        errors = conn.execute(
            "SELECT COUNT(*) FROM documents WHERE deleted = 0 "
            "AND json_array_length(body, '$.analysis_errors') > 0").fetchone()[0]
        return {"flagged": int(flagged), "analysis_errors": int(errors)}

    @staticmethod
    def _live_rows(start: int, end: int, min_confidence: float) -> tuple[str, list[Any]]:
        """SQL yielding (h, n): n live images at time h, for start <= event_ms < end.

        Whole hours come from the hourly counter, only the partial hours at both ends are counted
        row by row; a confidence filter has to look at the documents themselves.
        """
        if min_confidence > 0:
            # Walks the (deleted, hour_ms, ...) index in hour order: grouping needs no sort.
            return (
                "SELECT hour_ms AS h, COUNT(*) AS n FROM documents INDEXED BY documents_by_hour "
                "WHERE deleted = 0 AND hour_ms >= ? AND hour_ms < ? AND max_confidence >= ? "
                "AND event_ms >= ? AND event_ms < ? GROUP BY hour_ms",
                [_hour(start), end, min_confidence, start, end],
            )
        first, last = _hour(start) + (HOUR_MS if start % HOUR_MS else 0), _hour(end)
        if first >= last:
            return (
                "SELECT event_ms AS h, 1 AS n FROM documents WHERE deleted = 0 AND event_ms >= ? AND event_ms < ?",
                [start, end],
            )
        return (
            "SELECT hour_ms AS h, live AS n FROM hourly WHERE hour_ms >= ? AND hour_ms < ? AND live > 0 "
            "UNION ALL SELECT event_ms, 1 FROM documents WHERE deleted = 0 AND event_ms >= ? AND event_ms < ? "
            "UNION ALL SELECT event_ms, 1 FROM documents WHERE deleted = 0 AND event_ms >= ? AND event_ms < ?",
            [first, last, start, first, last, end],
        )

    def _live_between(self, start: int, end: int, min_confidence: float = 0.0) -> int:
        sql, params = self._live_rows(start, end, min_confidence)
        return self._connection().execute(f"SELECT COALESCE(SUM(n), 0) FROM ({sql})", params).fetchone()[0]

    @staticmethod
    def _tag_ids(conn: sqlite3.Connection, folded: tuple[str, ...]) -> dict[str, list[tuple[int, int]]] | None:
        """folded tag -> [(tag_id, live count)] of every spelling indexed ("Dog", "DOG"); None when
        a tag was never indexed in any spelling."""
        found = {}
        for tag in folded:
            rows = conn.execute("SELECT tag_id, live FROM tag_names WHERE folded = ?", (tag,)).fetchall()
            if not rows:
                return None
            found[tag] = rows
        return found

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, so a total and its page come from the same state of the index."""
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def search(
        self,
        tags: list[str] | None = None,
        min_confidence: float = 0.0,
        limit: int = 50,
        cursor: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Newest first, ties by id; every tag must be present (in any case) with at least
        min_confidence. Semantics and errors: `ImageIndex.search`."""
        spec = SearchSpec.parse(tags, min_confidence, limit, cursor, since, until, offset)
        with self._snapshot() as conn:
            total, bodies = self._search(conn, spec)
        return spec.page(total, [json.loads(body) for body in bodies])

    def _search(self, conn: sqlite3.Connection, spec: SearchSpec) -> tuple[int, list[str]]:
        """(total, bodies of up to limit + 1 matches after the cursor or offset)."""
        start = _MIN_MS if spec.since_ms is None else spec.since_ms
        end = _MAX_MS if spec.until_ms is None else spec.until_ms
        fetch = spec.limit + 1 if spec.limit else 0
        if not spec.tags:
            total = self._live_between(start, end, spec.min_confidence)
            where = "deleted = 0 AND event_ms >= ? AND event_ms < ? AND max_confidence >= ?"
            params: list[Any] = [start, _page_end(end, spec), spec.min_confidence]
            if spec.after is not None:
                # The cursor's time bounds the index range (one seek, whatever the depth); its id
                # decides among the rows of that very time.
                where += " AND (event_ms, id) < (?, ?)"
                params += spec.after
            rows = conn.execute(
                f"SELECT body FROM documents INDEXED BY documents_by_time WHERE {where} "
                "ORDER BY event_ms DESC, id DESC LIMIT ? OFFSET ?",
                [*params, fetch, spec.offset],
            ).fetchall()
            return total, [row[0] for row in rows]
        spellings = self._tag_ids(conn, spec.tags)
        if spellings is None:
            return 0, []
        if any(len(found) > 1 for found in spellings.values()):
            return self._search_spellings(conn, spec, spellings, start, end, fetch)
        ids = {tag: found[0] for tag, found in spellings.items()}
        wanted = list(spec.tags)
        min_confidence = spec.min_confidence
        start, end = self._clamped(conn, start, end)
        ranged = (start, end) != (_MIN_MS, _MAX_MS)
        # Drive the query from the tag with the fewest rows in the range (upper bounds from the counters),
        # then the fewest above min_confidence; the others are checked on its rows' tagset (a
        # primary-key lookup only for a confidence on min_confidence's whole point).
        by_time = {
            name: self._tag_rows_between(conn, tag_id, start, end) if ranged else live
            for name, (tag_id, live) in ids.items()
        }
        by_confidence = (
            {
                name: self._tag_rows_above(conn, tag_id, min_confidence) if min_confidence > 0 else live
                for name, (tag_id, live) in ids.items()
            }
            if len(wanted) > 1
            else by_time
        )
        driver = min(wanted, key=lambda name: (by_time[name], by_confidence[name]))
        where = "t.tag_id = ? AND t.event_ms >= ? AND t.event_ms < ? AND t.confidence >= ?"
        others: list[Any] = []
        for other in wanted:
            if other != driver:
                condition, condition_params = _has_tag(ids[other][0], min_confidence)
                where += f" AND {condition}"
                others += condition_params
        if len(wanted) == 1 and min_confidence <= 0 and not ranged:
            total = ids[driver][1]
        else:
            total = conn.execute(
                f"SELECT COUNT(*) FROM tags t INDEXED BY tags_by_time WHERE {where}",
                [ids[driver][0], start, end, min_confidence, *others],
            ).fetchone()[0]
        if total == 0 or fetch == 0 or spec.offset >= total:
            return total, []
        # The page walks the index newest first from the cursor on (its time is the range's upper
        # bound, its id decides among rows of that very time) and reads the page's bodies only.
        after = ""
        if spec.after is not None:
            after = " AND (t.event_ms < ? OR d.id < ?)"
            others += spec.after
        rows = conn.execute(
            "SELECT d.body FROM (SELECT t.doc, t.event_ms, d.id FROM tags t INDEXED BY tags_by_time "
            f"JOIN documents d ON d.doc = t.doc WHERE {where}{after} ORDER BY t.event_ms DESC, d.id DESC "
            "LIMIT ? OFFSET ?) p JOIN documents d ON d.doc = p.doc ORDER BY p.event_ms DESC, p.id DESC",
            [ids[driver][0], start, _page_end(end, spec), min_confidence, *others, fetch, spec.offset],
        ).fetchall()
        return total, [row[0] for row in rows]

    def _search_spellings(
        self,
        conn: sqlite3.Connection,
        spec: SearchSpec,
        spellings: dict[str, list[tuple[int, int]]],
        start: int,
        end: int,
        fetch: int,
    ) -> tuple[int, list[str]]:
        """The search when a tag was indexed in more than one spelling ("Dog" and "DOG"): documents
        in time order, each checked for one spelling of every tag. Rare (label names come from one
        model), so it trades the counters' shortcuts for simplicity: the total counts the range."""
        where = "d.deleted = 0 AND d.event_ms >= ? AND d.event_ms < ?"
        params: list[Any] = [start, end]
        for found in spellings.values():
            tag_ids = [tag_id for tag_id, _ in found]
            where += (
                f" AND EXISTS (SELECT 1 FROM tags t WHERE t.doc = d.doc AND t.tag_id IN ({_marks(tag_ids)}) "
                "AND t.confidence >= ?)"
            )
            params += [*tag_ids, spec.min_confidence]
        total = conn.execute(
            f"SELECT COUNT(*) FROM documents d INDEXED BY documents_by_time WHERE {where}", params
        ).fetchone()[0]
        if total == 0 or fetch == 0:
            return total, []
        if spec.after is not None:
            where += " AND (d.event_ms, d.id) < (?, ?)"
            params += spec.after
            params[1] = _page_end(end, spec)
        rows = conn.execute(
            f"SELECT d.body FROM documents d INDEXED BY documents_by_time WHERE {where} "
            "ORDER BY d.event_ms DESC, d.id DESC LIMIT ? OFFSET ?",
            [*params, fetch, spec.offset],
        )
        return total, [row[0] for row in rows]

    @staticmethod
    def _clamped(conn: sqlite3.Connection, start: int, end: int) -> tuple[int, int]:
        """The time range, or (_MIN_MS, _MAX_MS) when it holds every live image, so that the
        counters can answer for it."""
        if (start, end) == (_MIN_MS, _MAX_MS):
            return start, end
        first, last = conn.execute(
            "SELECT (SELECT MIN(event_ms) FROM documents WHERE deleted = 0), "
            "(SELECT MAX(event_ms) FROM documents WHERE deleted = 0)"
        ).fetchone()
        if first is None or (start <= first and end > last):
            return _MIN_MS, _MAX_MS
        return start, end

    @staticmethod
    def _tag_rows_between(conn: sqlite3.Connection, tag_id: int, start: int, end: int) -> int:
        """Live rows of the tag in the hours touching [start, end): at least those in the range."""
        return conn.execute(
            "SELECT COALESCE(SUM(live), 0) FROM tag_hourly WHERE tag_id = ? AND hour_ms >= ? AND hour_ms < ?",
            (tag_id, _hour(start), end),
        ).fetchone()[0]

    @staticmethod
    def _tag_rows_above(conn: sqlite3.Connection, tag_id: int, min_confidence: float) -> int:
        """Live rows of the tag on min_confidence's whole point or above: at least those above it."""
        return conn.execute(
            "SELECT COALESCE(SUM(live), 0) FROM tag_confidence WHERE tag_id = ? AND floor_confidence >= ?",
            (tag_id, math.floor(min_confidence)),
        ).fetchone()[0]

    def tag_counts(
        self, top: int = 20, min_confidence: float = 0.0, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Images per tag, most frequent first (ties by name)."""
        with self._snapshot() as conn:
            start, end = self._clamped(conn, to_ms(since, _MIN_MS), to_ms(until, _MAX_MS))
            ranged = (start, end) != (_MIN_MS, _MAX_MS)
            if min_confidence <= 0 and not ranged:
                rows = conn.execute(
                    "SELECT name, live FROM tag_names WHERE live > 0 ORDER BY live DESC, name LIMIT ?", (top,)
                ).fetchall()
            elif not ranged:
                rows = self._tag_counts_above(conn, min_confidence, top)
            elif min_confidence <= 0:
                rows = self._tag_counts_between(conn, start, end, top)
            else:
                # One index range per tag: the cost follows the rows in the time range, not the table.
                rows = conn.execute(
                    "SELECT n.name, (SELECT COUNT(*) FROM tags t INDEXED BY tags_by_time WHERE t.tag_id = n.tag_id "
                    "AND t.event_ms >= ? AND t.event_ms < ? AND t.confidence >= ?) AS c FROM tag_names n "
                    "WHERE n.live > 0 AND c > 0 ORDER BY c DESC, n.name LIMIT ?",
                    (start, end, min_confidence, top),
                ).fetchall()
        return [{"tag": tag, "count": count} for tag, count in rows]

    @staticmethod
    def _tag_counts_between(conn: sqlite3.Connection, start: int, end: int, top: int) -> list[tuple[str, int]]:
        """Whole hours from the per-tag hourly counter, the partial hours at both ends row by row."""
        first, last = _hour(start) + (HOUR_MS if start % HOUR_MS else 0), _hour(end)
        counts: Counter = Counter()
        edges = [(start, end)] if first >= last else [(start, first), (last, end)]
        if first < last:
            # One range of the (tag, hour) key per tag: sums in key order, no sort of every hour's rows.
            counts.update(
                dict(
                    conn.execute(
                        "SELECT n.tag_id, (SELECT COALESCE(SUM(h.live), 0) FROM tag_hourly h WHERE h.tag_id = n.tag_id "
                        "AND h.hour_ms >= ? AND h.hour_ms < ?) FROM tag_names n WHERE n.live > 0",
                        (first, last),
                    ).fetchall()
                )
            )
        for low, high in edges:
            if low < high:
                counts.update(
                    dict(
                        conn.execute(
                            "SELECT t.tag_id, COUNT(*) FROM documents d INDEXED BY documents_by_time "
                            "JOIN tags t ON t.doc = d.doc WHERE d.deleted = 0 AND d.event_ms >= ? AND d.event_ms < ? "
                            "GROUP BY t.tag_id",
                            (low, high),
                        ).fetchall()
                    )
                )
        return _ranked(conn, counts, top)

    @staticmethod
    def _tag_counts_above(conn: sqlite3.Connection, min_confidence: float, top: int) -> list[tuple[str, int]]:
        """Whole confidence points from the per-tag counter; only the fraction of a point below the
        next integer (min_confidence 80.5 -> [80.5, 81)) is counted row by row."""
        whole = math.ceil(min_confidence)
        counts = dict(
            conn.execute(
                "SELECT tag_id, SUM(live) FROM tag_confidence WHERE floor_confidence >= ? GROUP BY tag_id", (whole,)
            ).fetchall()
        )
        if whole > min_confidence:
            for tag_id, count in conn.execute(
                "SELECT n.tag_id, (SELECT COUNT(*) FROM tags t INDEXED BY tags_by_confidence WHERE "
                "t.tag_id = n.tag_id AND t.confidence >= ? AND t.confidence < ?) FROM tag_names n "
                "WHERE n.live > 0",
                (min_confidence, whole),
            ):
                counts[tag_id] = counts.get(tag_id, 0) + count
        return _ranked(conn, counts, top)

    def image_counts(
        self, interval: str = "day", since: str | None = None, until: str | None = None, min_confidence: float = 0.0
    ) -> list[dict[str, Any]]:
        """Images per calendar bucket (UTC), oldest first; buckets without images are left out."""
        if interval not in INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
        start, end = to_ms(since, _MIN_MS), to_ms(until, _MAX_MS)
        sql, params = self._live_rows(start, end, min_confidence)
        rows = (
            self._connection()
            .execute(
                f"SELECT strftime('%Y-%m-%dT%H:%M:%SZ', b / 1000, 'unixepoch'), n FROM "
                f"(SELECT {_BUCKET_SQL[interval]} AS b, SUM(n) AS n FROM ({sql}) GROUP BY b) ORDER BY b",
                params,
            )
            .fetchall()
        )
        return [{"time": time, "count": count} for time, count in rows]
