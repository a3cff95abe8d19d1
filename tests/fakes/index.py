"""`ports.ImageIndex` in memory, with the index's rules: writes conditional on the S3 sequencer
(the domain's own `supersedes`), deletes leaving tombstones, reads that skip tombstones."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from autotagger.contracts import MODERATION_THRESHOLD
from autotagger.domain.documents import format_time, parse_time, supersedes, tag_confidences, tombstone_for
from autotagger.index.query import SearchSpec, fold, sort_key

_INTERVALS = ("hour", "day", "week", "month")


def _bucket_start(moment: datetime, interval: str) -> datetime:
    """Start of the hour / day / week (Monday) / month holding `moment`, in UTC."""
    moment = moment.astimezone(UTC)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


class FakeImageIndex:
    """`documents` holds each id's stored state (tombstones too, `deleted: True`); tests may fill it.

    `failing`: ids whose writes answer `status: error` (a bulk item error) without being written.
    `apply_calls` and `search_calls` record what was asked.
    """

    def __init__(self, failing: tuple[str, ...] = ()):
        self.documents: dict[str, dict[str, Any]] = {}
        self.failing = set(failing)
        self.apply_calls: list[list[dict[str, Any]]] = []
        self.search_calls: list[dict[str, Any]] = []
        self.closed = False

    # -- writes
    def apply(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.apply_calls.append(actions)
        results = []
        for action in actions:
            doc_id = action["id"]
            if doc_id in self.failing:
                results.append({"id": doc_id, "status": "error", "error": "429 es_rejected_execution_exception"})
                continue
            stored = self.documents.get(doc_id)
            if stored is not None and not supersedes(action["sequencer"], stored["sequencer"]):
                results.append({"id": doc_id, "status": "stale"})
                continue
            if action["action"] == "upsert":
                self.documents[doc_id] = {**action["document"], "id": doc_id}
            else:
                self.documents[doc_id] = tombstone_for(action, datetime.now(UTC))
            results.append({"id": doc_id, "status": "applied"})
        return results

    # -- reads
    def _live(self, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        def inside(document: dict[str, Any]) -> bool:
            moment = parse_time(document["event_time"]) if document.get("event_time") else None
            return ((since is None or (moment is not None and moment >= parse_time(since)))
                    and (until is None or (moment is not None and moment < parse_time(until))))

        return [d for d in self.documents.values() if not d.get("deleted") and inside(d)]

    @staticmethod
    def _confidences(document: dict[str, Any]) -> dict[str, float]:
        return tag_confidences(document.get("labels") or [], threshold=0.0)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        found = self.documents.get(doc_id)
        return None if found is None or found.get("deleted") else copy.deepcopy(found)

    def search(self, tags: list[str] | None = None, min_confidence: float = 0.0, limit: int = 50,
               cursor: str | None = None, since: str | None = None, until: str | None = None,
               offset: int = 0) -> dict[str, Any]:
        """The adapters' semantics (`autotagger.index.query`): tags ignore case, newest first by
        (event time, id), pages by keyset cursor."""
        self.search_calls.append({"tags": tags, "min_confidence": min_confidence, "limit": limit, "cursor": cursor,
                                      "offset": offset, "since": since, "until": until})
        spec = SearchSpec.parse(tags, min_confidence, limit, cursor, since, until, offset)

        def matches(document: dict[str, Any]) -> bool:
            confidences: dict[str, float] = {}
            for name, confidence in self._confidences(document).items():
                confidences[fold(name)] = max(confidence, confidences.get(fold(name), -1.0))
            if spec.tags:
                return all(confidences.get(t, -1.0) >= spec.min_confidence for t in spec.tags)
            return max(confidences.values(), default=0.0) >= spec.min_confidence

        hits = sorted((d for d in self._live(since, until) if matches(d)), key=sort_key, reverse=True)
        total = len(hits)
        if spec.after is not None:
            hits = [d for d in hits if sort_key(d) < spec.after]
        return spec.page(total, copy.deepcopy(hits[spec.offset:spec.offset + spec.limit + 1]))

    def tag_counts(self, top: int = 20, min_confidence: float = 0.0, since: str | None = None,
                   until: str | None = None) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for document in self._live(since, until):
            for tag, confidence in self._confidences(document).items():
                if tag in document.get("tags", []) and confidence >= min_confidence:
                    counts[tag] = counts.get(tag, 0) + 1
        return [{"tag": t, "count": c} for t, c in sorted(counts.items(), key=lambda i: (-i[1], i[0]))][:top]

    def image_counts(self, interval: str = "day", since: str | None = None, until: str | None = None,
                     min_confidence: float = 0.0) -> list[dict[str, Any]]:
        if interval not in _INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(_INTERVALS)}, got {interval!r}")
        counts: dict[datetime, int] = {}
        for document in self._live(since, until):
            if document.get("event_time") and max(self._confidences(document).values(), default=0.0) >= min_confidence:
                start = _bucket_start(parse_time(document["event_time"]), interval)
                counts[start] = counts.get(start, 0) + 1
        return [{"time": format_time(start), "count": n} for start, n in sorted(counts.items())]

    def count(self) -> int:
        return len(self._live())

    def analysis_counts(self) -> dict[str, int]:
        live = self._live()
        return {"flagged": sum(1 for d in live if (d.get("moderation") or {}).get("max_confidence", 0.0)
                               >= MODERATION_THRESHOLD),
                "analysis_errors": sum(1 for d in live if d.get("analysis_errors"))}

    def close(self) -> None:
        self.closed = True
