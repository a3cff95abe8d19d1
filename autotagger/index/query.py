"""Search semantics both ImageIndex adapters share: parameter checks, tag folding, the sort key
and the cursor.

Order: newest first by `event_time`, ties by document `id` (descending), so the order is total and
the same in SQLite and OpenSearch. A cursor is the sort key (event time in epoch milliseconds, id)
of the last image of a page, base64url-encoded JSON: the next page is every match strictly after
it in that order (OpenSearch's `search_after`, a keyset condition in SQLite). A page therefore
costs the same at any depth, and images indexed during a walk neither repeat nor shift what is
left to walk: newer ones sort before the cursor, older ones are found when the walk reaches them.

Tags match case-insensitively after `fold`: Python's str.lower, as OpenSearch's `lowercase` token
filter lower-cases (Lucene's applies the simple per-code-point mapping, so the two differ only for
the rare characters whose lower case is longer, such as U+0130).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from autotagger.domain.documents import parse_time
from autotagger.errors import InvalidCursor

MAX_LIMIT = 500
"""Images per page at most (the API's bound too)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURSOR_CHARS = 512
_MAX_MS = 2**62


def fold(tag: str) -> str:
    """The form tags are compared in: `dog`, `Dog` and `DOG` are one tag to a search."""
    return tag.lower()


def to_ms(value: str | None, default: int) -> int:
    """An ISO 8601 time as epoch milliseconds (`default` for None); bad times raise ValueError."""
    if value is None:
        return default
    return int((parse_time(value) - _EPOCH) // timedelta(milliseconds=1))


def sort_key(document: dict[str, Any]) -> tuple[int, str]:
    """(event time in ms, id): the document's place in the search order (greatest first)."""
    return to_ms(document.get("event_time"), 0), document["id"]


def encode_cursor(key: tuple[int, str]) -> str:
    raw = json.dumps([key[0], key[1]], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The sort key a cursor holds; InvalidCursor for anything `encode_cursor` did not make."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("invalid cursor: pass next_cursor from a previous page unchanged")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor(f"invalid cursor: not one this server issued ({exc.__class__.__name__})") from None
    if (not isinstance(value, list) or len(value) != 2 or type(value[0]) is not int
            or not -_MAX_MS < value[0] < _MAX_MS or not isinstance(value[1], str) or not value[1]):
        raise InvalidCursor("invalid cursor: not one this server issued")
    return value[0], value[1]


@dataclass(frozen=True)
class SearchSpec:
    """A checked search: what both adapters run."""

    tags: tuple[str, ...]  # folded, each once, in the order given
    min_confidence: float
    limit: int
    offset: int
    after: tuple[int, str] | None  # the sort key of the previous page's last image
    since_ms: int | None  # inclusive
    until_ms: int | None  # exclusive

    @classmethod
    def parse(cls, tags: list[str] | None = None, min_confidence: float = 0.0, limit: int = 50,
              cursor: str | None = None, since: str | None = None, until: str | None = None,
              offset: int = 0) -> SearchSpec:
        """Raises InvalidCursor for a bad cursor and ValueError for any other bad parameter."""
        if isinstance(tags, str):
            raise ValueError("tags must be a list of tag names, not one string")
        if any(not isinstance(tag, str) for tag in tags or []):
            raise ValueError("every tag must be a string")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be an integer from 0 to {MAX_LIMIT}, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
        try:
            confidence = float(min_confidence)
        except (TypeError, ValueError):
            raise ValueError(f"min_confidence must be a number, got {min_confidence!r}") from None
        if math.isnan(confidence):
            raise ValueError("min_confidence must be a number, got NaN")
        after = decode_cursor(cursor) if cursor is not None else None
        if after is not None and offset:
            raise ValueError("give a cursor or an offset, not both")
        return cls(tags=tuple(dict.fromkeys(fold(tag) for tag in tags or [])), min_confidence=confidence,
                   limit=limit, offset=offset, after=after,
                   since_ms=None if since is None else to_ms(since, 0),
                   until_ms=None if until is None else to_ms(until, 0))

    def page(self, total: int, documents: list[dict[str, Any]]) -> dict[str, Any]:
        """The answer, from up to limit + 1 documents in search order (the extra one only tells
        that another page follows)."""
        images = documents[:self.limit]
        more = len(documents) > self.limit and bool(images)
        return {"total": total, "images": images, "next_cursor": encode_cursor(sort_key(images[-1])) if more else None}
