"""A call-recording index for the `ReadApi` tests (the other read ports' fakes are in tests/fakes)."""

from __future__ import annotations

import base64
from typing import Any

from autotagger.errors import InvalidCursor


class MemoryIndex:
    """`ports.ImageIndex` (the search signature with cursors) over a list of documents: newest event
    first, then id; tags match case-insensitively; the cursor is the (event_time, id) of the last
    image answered, so images indexed between pages neither repeat nor push others out."""

    def __init__(self, documents: list[dict[str, Any]] | None = None):
        self.documents = {d["id"]: d for d in documents or []}
        self.calls: list[dict[str, Any]] = []

    def apply(self, actions):
        raise NotImplementedError("the read API never writes")

    def get(self, doc_id):
        return self.documents.get(doc_id)

    @staticmethod
    def _order(document):
        return document["event_time"], document["id"]

    def search(self, tags=None, min_confidence=0.0, limit=50, cursor=None, since=None, until=None, offset=0):
        self.calls.append({"tags": tags, "min_confidence": min_confidence, "limit": limit, "cursor": cursor,
                           "since": since, "until": until})
        wanted = {t.lower() for t in tags or []}
        matches = sorted((d for d in self.documents.values()
                          if wanted <= {t.lower() for t in d["tags"]}
                          and (since is None or d["event_time"] >= since)
                          and (until is None or d["event_time"] < until)),
                         key=self._order, reverse=True)
        total = len(matches)
        if cursor is not None:
            try:
                after = tuple(base64.urlsafe_b64decode(cursor.encode()).decode().split("|"))
            except ValueError:
                raise InvalidCursor("not a cursor of this index") from None
            if len(after) != 2:
                raise InvalidCursor("not a cursor of this index")
            matches = [d for d in matches if self._order(d) < after]
        page = matches[offset:offset + limit]
        more = len(matches) > offset + limit
        next_cursor = (base64.urlsafe_b64encode("|".join(self._order(page[-1])).encode()).decode()
                       if page and more else None)
        return {"total": total, "images": page, "next_cursor": next_cursor}

    def tag_counts(self, top=20, min_confidence=0.0, since=None, until=None):
        self.calls.append({"top": top, "min_confidence": min_confidence, "since": since, "until": until})
        counts: dict[str, int] = {}
        for document in self.documents.values():
            for tag in document["tags"]:
                counts[tag] = counts.get(tag, 0) + 1
        return [{"tag": t, "count": n} for t, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))][:top]

    def image_counts(self, interval="day", since=None, until=None, min_confidence=0.0):
        self.calls.append({"interval": interval, "since": since, "until": until, "min_confidence": min_confidence})
        days: dict[str, int] = {}
        for document in self.documents.values():
            day = document["event_time"][:10] + "T00:00:00Z"
            days[day] = days.get(day, 0) + 1
        return [{"time": t, "count": n} for t, n in sorted(days.items())]


def document(number: int, *tags: str) -> dict[str, Any]:
    return {"id": f"{number:040x}", "bucket": "image-vaults", "key": f"raw-image/{number}.jpg",
            "labels": [{"name": t, "confidence": 90.0} for t in tags], "tags": list(tags),
            "event_time": f"2026-11-{1 + number % 28:02d}T12:00:{number % 60:02d}Z"}
