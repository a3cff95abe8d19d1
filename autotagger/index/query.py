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

`text` (the words detected in the image) and `safe` (no moderation label at or above
`contracts.MODERATION_THRESHOLD`) are expressed here once for both adapters (`opensearch_clauses`,
`sqlite_condition`): every word of `text` must be a word of the document's text, in any case. A word
is what `words` cuts out, an approximation of the standard tokenizer OpenSearch's `match` query and
the `text` field use (Unicode word boundaries, https://unicode.org/reports/tr29/, then lower case):
runs of letters, digits and `_`, kept together across an apostrophe or a period between two of them
and a comma or semicolon between two digits (`harbour-master's` is `harbour` and `master's`, `3.5`
and `1,000` one word each), each CJK ideograph or hiragana a word of its own. Lucene's tokenizer
knows more of Unicode's rules (other scripts' word boundaries, emoji), so rarer texts may differ.
SQLite stores each document's words in that form and matches them exactly; OpenSearch is sent the
same words and analyses them with the field's analyzer.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from autotagger.contracts import MODERATION_THRESHOLD
from autotagger.domain.documents import parse_time
from autotagger.errors import InvalidCursor

MAX_LIMIT = 500
"""Images per page at most (the API's bound too)."""
MAX_TEXT_CHARS = 200
"""The longest `text` a search takes (the API's bound too)."""

_IDEOGRAPHS = "\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_CHAR = rf"(?:(?![{_IDEOGRAPHS}])\w)"
_JOINER = r"(?:['\u2019.]|(?<=\d)[,;](?=\d))"  # UAX #29's MidNumLet, and MidNum between digits
_WORD = re.compile(rf"[{_IDEOGRAPHS}]|{_WORD_CHAR}+(?:{_JOINER}{_WORD_CHAR}+)*")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURSOR_CHARS = 512
_MAX_MS = 2**62


def fold(tag: str) -> str:
    """The form tags are compared in: `dog`, `Dog` and `DOG` are one tag to a search."""
    return tag.lower()


def words(text: str) -> list[str]:
    """The words of a text as searches compare them: folded, in order, repeats kept."""
    return [fold(word) for word in _WORD.findall(text)]


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
    words: tuple[str, ...] = ()  # of `text`: each must be a word of the document's text
    safe: bool = False  # leave out images with a moderation label at or above the threshold

    @property
    def filters_content(self) -> bool:
        """Whether text or moderation narrow the search (the adapters' counters cannot answer then)."""
        return bool(self.words) or self.safe

    @classmethod
    def parse(cls, tags: list[str] | None = None, min_confidence: float = 0.0, limit: int = 50,
              cursor: str | None = None, since: str | None = None, until: str | None = None,
              offset: int = 0, text: str | None = None, safe: bool = False) -> SearchSpec:
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
        if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_CHARS or not words(text)):
            raise ValueError(f"text must be a string of at most {MAX_TEXT_CHARS} characters holding a word")
        if not isinstance(safe, bool):
            raise ValueError(f"safe must be true or false, got {safe!r}")
        after = decode_cursor(cursor) if cursor is not None else None
        if after is not None and offset:
            raise ValueError("give a cursor or an offset, not both")
        return cls(tags=tuple(dict.fromkeys(fold(tag) for tag in tags or [])), min_confidence=confidence,
                   limit=limit, offset=offset, after=after,
                   since_ms=None if since is None else to_ms(since, 0),
                   until_ms=None if until is None else to_ms(until, 0),
                   words=tuple(dict.fromkeys(words(text))) if text is not None else (), safe=safe)

    def page(self, total: int, documents: list[dict[str, Any]]) -> dict[str, Any]:
        """The answer, from up to limit + 1 documents in search order (the extra one only tells
        that another page follows)."""
        images = documents[:self.limit]
        more = len(documents) > self.limit and bool(images)
        return {"total": total, "images": images, "next_cursor": encode_cursor(sort_key(images[-1])) if more else None}


# -- text and moderation: one builder, both adapters --------------------------------------------------

def opensearch_clauses(spec: SearchSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(filter, must_not) clauses of a bool query for `text` and `safe`.

    `match` with operator `and`: every word must be in the `text` field (a `text` field analysed by
    the standard analyzer: https://docs.opensearch.org/latest/query-dsl/full-text/match/). An image
    never analysed for moderation has no `moderation.max_confidence` and stays in a safe search, as
    an image without a label at or above the threshold does."""
    filters: list[dict[str, Any]] = []
    if spec.words:
        filters.append({"match": {"text": {"query": " ".join(spec.words), "operator": "and"}}})
    must_not = [flagged_clause()] if spec.safe else []
    return filters, must_not


def flagged_clause() -> dict[str, Any]:
    """The OpenSearch query of flagged images (what `safe` leaves out and the `flagged` count counts)."""
    return {"range": {"moderation.max_confidence": {"gte": MODERATION_THRESHOLD}}}


def sqlite_words(text: str | None) -> str | None:
    """The form SQLite stores a document's words in: each distinct word once, between spaces (None
    for no words), so that a word matches with one instr() and never inside a longer word."""
    found = list(dict.fromkeys(words(text))) if text else []
    return f" {' '.join(found)} " if found else None


def sqlite_flagged() -> tuple[str, list[Any]]:
    """The SQLite query of flagged live images' `doc`s (read from the partial index `documents_flagged`)."""
    return ("SELECT f.doc FROM documents f INDEXED BY documents_flagged "
            "WHERE f.deleted = 0 AND f.moderation_max IS NOT NULL AND f.moderation_max >= ?", [MODERATION_THRESHOLD])


def sqlite_matching_words(spec: SearchSpec) -> tuple[str, list[Any]]:
    """The SQLite query of the `doc`s whose words hold every word of the search."""
    return ("SELECT w.doc FROM document_words w WHERE " + " AND ".join(["instr(w.words, ?) > 0"] * len(spec.words)),
            [f" {word} " for word in spec.words])


def sqlite_condition(spec: SearchSpec, doc: str = "d.doc") -> tuple[str, list[Any]]:
    """(" AND ..." condition, parameters) for `text` and `safe` on a column holding a document's `doc`
    (a documents row's or a tag row's, so a tag search needs no documents row to decide); ("", [])
    for none. Both are set memberships of uncorrelated subqueries, which SQLite evaluates once per
    statement: the words table is scanned once, the flagged images read from their partial index."""
    sql = ""
    params: list[Any] = []
    if spec.words:
        matching, matching_params = sqlite_matching_words(spec)
        sql += f" AND {doc} IN ({matching})"
        params += matching_params
    if spec.safe:
        flagged, flagged_params = sqlite_flagged()
        sql += f" AND {doc} NOT IN ({flagged})"
        params += flagged_params
    return sql, params
