"""Dashboard queries on the embedded (SQLite) index holding 100,000 documents: one-tag search, a
two-tag search, a tag search over the last 7 days, the top-20 tag counts and images per day over 90
days. Median and p95 of several runs each, against the 50 ms target, measured in the same run.
The load itself (documents per second through `ImageIndex.apply`, batches of 1,000) is reported too.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import log, median, percentile, spread
from bench.synthetic_docs import DAYS, popular_tags, synthetic_actions

TARGET_MS = 50.0
LOAD_BATCH = 1000


def _tag_ranks(actions: list[dict[str, Any]]) -> dict[str, str]:
    """A common tag (rank 1), a mid one (rank ~20) and a rare one (rank ~200) of this collection."""
    ranked = popular_tags(actions, top=400)
    pick = lambda rank: ranked[min(rank, len(ranked) - 1)]  # noqa: E731
    return {"common": pick(0), "mid": pick(19), "rare": pick(199), "second": pick(1)}


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
            "queries": results}


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
