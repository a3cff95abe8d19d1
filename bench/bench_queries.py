"""Dashboard queries on the embedded (SQLite) index holding 100,000 documents: one-tag search, a
two-tag search, a tag search over the last 7 days, the top-20 tag counts and images per day over 90
days; searches for words in the images' text (a common and a rare word, and with a tag) and safe
searches (with and without a tag). Median and p95 of several runs each, against the 50 ms target,
measured in the same run.
The load itself (documents per second through `ImageIndex.apply`, batches of 1,000) is reported too.

Cursor walks: every image (and every image of the common tag) page by page through `next_cursor`,
documents per second and the time per page at the start, the middle and the end of the walk, which
stay alike because a cursor page seeks to its key instead of skipping what came before.
The same dashboard queries, a deep cursor page and an offset page also run on the OpenSearch adapter
against osmem-server (in memory, on loopback; not OpenSearch, so only the adapter's cost per request
and relative costs mean something) at a smaller size (OPENSEARCH_DOCUMENTS).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import log, median, percentile, spread
from bench.synthetic_docs import DAYS, common_words, popular_tags, synthetic_actions

TARGET_MS = 50.0
LOAD_BATCH = 1000
WALK_PAGE = 100  # images per cursor page
OPENSEARCH_DOCUMENTS = 5_000  # loading osmem-server through the adapter runs at ~50-100 documents/s here


def _tag_ranks(actions: list[dict[str, Any]]) -> dict[str, str]:
    """A common tag (rank 1), a mid one (rank ~20) and a rare one (rank ~200) of this collection."""
    ranked = popular_tags(actions, top=400)
    pick = lambda rank: ranked[min(rank, len(ranked) - 1)]  # noqa: E731
    words = common_words(actions)
    word = lambda rank: words[min(rank, len(words) - 1)]  # noqa: E731
    return {"common": pick(0), "mid": pick(19), "rare": pick(199), "second": pick(1),
            "common_word": word(0), "rare_word": word(499)}


def queries(index: Any, tags: dict[str, str], end_time: str, week_start: str) -> dict[str, Callable[[], Any]]:
    return {
        "tag_search_common": lambda: index.search(tags=[tags["common"]], limit=50),
        "tag_search_mid": lambda: index.search(tags=[tags["mid"]], limit=50),
        "tag_search_rare": lambda: index.search(tags=[tags["rare"]], limit=50),
        "tag_search_two_tags": lambda: index.search(tags=[tags["common"], tags["second"]], limit=50),
        "tag_search_last_7_days": lambda: index.search(tags=[tags["common"]], limit=50, since=week_start,
                                                       until=end_time),
        "tag_search_min_confidence_80": lambda: index.search(tags=[tags["mid"]], min_confidence=80.0, limit=50),
        "top_20_tag_counts": lambda: index.tag_counts(top=20),
        "top_20_tag_counts_last_7_days": lambda: index.tag_counts(top=20, since=week_start, until=end_time),
        "images_per_day_90_days": lambda: index.image_counts(interval="day"),
        "text_search_common_word": lambda: index.search(text=tags["common_word"], limit=50),
        "text_search_rare_word": lambda: index.search(text=tags["rare_word"], limit=50),
        "text_search_with_tag": lambda: index.search(tags=[tags["common"]], text=tags["common_word"], limit=50),
        "safe_search": lambda: index.search(safe=True, limit=50),
        "safe_search_with_tag": lambda: index.search(tags=[tags["common"]], safe=True, limit=50),
        "analysis_counts": lambda: index.analysis_counts(),
    }


def run(quick: bool = False, documents: int | None = None, repeats: int | None = None) -> dict[str, Any]:
    from autotagger.index import open_index

    documents = documents or (20_000 if quick else 100_000)
    repeats = repeats or (7 if quick else 15)
    log(f"queries: generating {documents} documents")
    actions = synthetic_actions(documents, seed=100)
    tags = _tag_ranks(actions)
    times = sorted(action["document"]["event_time"] for action in actions)
    end_time, week_start = times[-1], _days_before(times[-1], 7)
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        index = open_index(Path(tmp) / "index.db")
        log(f"queries: loading {documents} documents into SQLite")
        start = time.perf_counter()
        for i in range(0, len(actions), LOAD_BATCH):
            index.apply(actions[i:i + LOAD_BATCH])
        load_seconds = time.perf_counter() - start
        total = index.search(limit=0)["total"]
        if total != documents:
            raise RuntimeError(f"index holds {total} documents, expected {documents}")
        log("queries: timing")
        measured: dict[str, list[float]] = {}
        answers: dict[str, Any] = {}
        for name, query in queries(index, tags, end_time, week_start).items():
            answers[name] = query()  # warm: first run reads pages from disk
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                query()
                samples.append((time.perf_counter() - t0) * 1000)
            measured[name] = samples
        log("queries: cursor walks")
        walks = {"all_images": cursor_walk(index), "common_tag": cursor_walk(index, tags=[tags["common"]])}
        db_bytes = sum(p.stat().st_size for p in Path(tmp).glob("index.db*"))
        index.close()
    results = {}
    for name, samples in measured.items():
        answer = answers[name]
        results[name] = {"median_ms": round(median(samples), 3), "p95_ms": round(percentile(samples, 95), 3),
                         "runs_ms": spread(samples)["runs"],
                         "median_vs_target": round(median(samples) / TARGET_MS, 4),
                         "meets_target": median(samples) < TARGET_MS,
                         "answer": _describe(answer)}
    return {"documents": documents, "days": DAYS, "repeats": repeats, "target_ms": TARGET_MS, "tags": tags,
            "load": {"seconds": round(load_seconds, 2), "docs_per_second": round(documents / load_seconds, 1),
                     "batch_size": LOAD_BATCH, "database_mib": round(db_bytes / 2**20, 1)},
            "queries": results, "cursor_walk": {"page_size": WALK_PAGE, **walks},
            "opensearch": opensearch_queries(quick, repeats)}


def cursor_walk(index: Any, **query: Any) -> dict[str, Any]:
    """Walks every match by cursor; documents/s and the median ms per page in the first, middle and
    last tenth of the pages (a walk whose pages got slower with depth would show it here)."""
    pages: list[float] = []
    seen, cursor = 0, None
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        found = index.search(limit=WALK_PAGE, cursor=cursor, **query)
        pages.append((time.perf_counter() - t0) * 1000)
        seen += len(found["images"])
        cursor = found["next_cursor"]
        if cursor is None:
            break
    seconds = time.perf_counter() - start
    if seen != found["total"]:
        raise RuntimeError(f"cursor walk returned {seen} images of {found['total']}")
    tenth = max(1, len(pages) // 10)
    middle = len(pages) // 2 - tenth // 2
    part = lambda values: round(median(values), 3)  # noqa: E731
    return {"documents": seen, "pages": len(pages), "seconds": round(seconds, 3),
            "docs_per_second": round(seen / seconds, 1),
            "page_ms": {"start": part(pages[:tenth]), "middle": part(pages[middle:middle + tenth]),
                        "end": part(pages[-tenth:])},
            "end_vs_start": round(median(pages[-tenth:]) / median(pages[:tenth]), 3)}


def opensearch_queries(quick: bool, repeats: int, documents: int | None = None) -> dict[str, Any]:
    """The dashboard queries per request on the OpenSearch adapter (osmem-server on loopback), plus a
    cursor page at the end of the newest-first order and an offset page as deep, for comparison."""
    from autotagger.index.opensearch import OpenSearchIndex
    from bench.osmem import opensearch_server

    documents = documents or (1_000 if quick else OPENSEARCH_DOCUMENTS)
    actions = synthetic_actions(documents, seed=101)
    tags = _tag_ranks(actions)
    times = sorted(action["document"]["event_time"] for action in actions)
    end_time, week_start = times[-1], _days_before(times[-1], 7)
    with opensearch_server() as url:
        index = OpenSearchIndex.from_url(url, index_name="image_insights_bench_queries")
        log(f"queries: loading {documents} documents into the OpenSearch adapter (osmem-server)")
        start = time.perf_counter()
        for i in range(0, len(actions), LOAD_BATCH):
            index.apply(actions[i:i + LOAD_BATCH])
        index.refresh_now()
        load_seconds = time.perf_counter() - start
        deep = documents - WALK_PAGE
        named = queries(index, tags, end_time, week_start)
        cursor = _cursor_at(index, deep)
        named["cursor_page_at_the_end"] = lambda: index.search(limit=WALK_PAGE, cursor=cursor)
        if deep + WALK_PAGE <= 10_000:  # OpenSearch refuses from + size beyond index.max_result_window
            named["offset_page_at_the_end"] = lambda: index.search(limit=WALK_PAGE, offset=deep)
        measured = {}
        for name, query in named.items():
            query()
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                query()
                samples.append((time.perf_counter() - t0) * 1000)
            measured[name] = {"median_ms": round(median(samples), 3), "p95_ms": round(percentile(samples, 95), 3)}
        index.close()
    return {"server": "osmem-server (in memory, loopback)", "documents": documents, "repeats": repeats,
            "load_docs_per_second": round(documents / load_seconds, 1), "requests": measured}


def _cursor_at(index: Any, position: int) -> str:
    """The cursor after the first `position` images (walked in pages of the largest size)."""
    cursor, seen = None, 0
    while seen < position:
        found = index.search(limit=min(500, position - seen), cursor=cursor)
        seen += len(found["images"])
        cursor = found["next_cursor"]
    return cursor


def _describe(answer: Any) -> str:
    if isinstance(answer, dict) and "total" in answer:
        return f"{answer['total']} matches, {len(answer.get('images', []))} returned"
    if isinstance(answer, list):
        return f"{len(answer)} rows"
    return type(answer).__name__


def _days_before(iso: str, days: int) -> str:
    from datetime import datetime, timedelta

    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
