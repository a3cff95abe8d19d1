"""The analysers alone, in their own process: the baseline of the end-to-end benchmark.

Runs the analysers the pipeline runs, built as the local runtime builds them (DetectLabels:
`get_labeler("local", concurrent_callers=workers)` with the pipeline's MaxLabels/MinConfidence;
DetectText: `get_text_detector()`; DetectModerationLabels: `get_moderation_detector(workers)`), on
the same photos, every call of every photo through one pool of as many threads as the pipeline has
workflow workers (the pipeline's analyser slots: one analyser call per worker at once). Which
analyses run is what the pipeline's Settings say (AUTOTAGGER_DETECT_TEXT /
AUTOTAGGER_DETECT_MODERATION) unless `--analyses` names them. Prints {"images", "seconds",
"images_per_second", "cpu_seconds_per_image", "peak_rss_mib", "analyses"} as JSON; CPU counts this
process's threads and the children it waited for (Tesseract runs one process per call).

    python -m bench.labeler_only PHOTO_DIR [--workers N] [--warmup 2] [--analyses labels,text,moderation]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ANALYSES = ("labels", "text", "moderation")


def enabled_analyses() -> tuple[str, ...]:
    """The analyses the pipeline runs with this environment's Settings (labels always)."""
    from autotagger.config import Settings

    settings = Settings()
    return ("labels",) + (("text",) if settings.detect_text else ()) + (
        ("moderation",) if settings.detect_moderation else ())


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def analysers(names: tuple[str, ...], workers: int) -> dict[str, Callable[[bytes], Any]]:
    from autotagger.config import Settings
    from autotagger.labeler import get_labeler, get_moderation_detector, get_text_detector

    defaults = Settings()
    calls: dict[str, Callable[[bytes], Any]] = {}
    if "labels" in names:
        labeler = get_labeler("local", concurrent_callers=workers)  # as the pipeline builds it
        calls["labels"] = lambda data: labeler.detect_labels(
            data, max_labels=defaults.max_labels, min_confidence=defaults.min_confidence)
    if "text" in names:
        calls["text"] = get_text_detector().detect_text
    if "moderation" in names:
        calls["moderation"] = get_moderation_detector(concurrent_callers=workers).detect_moderation_labels
    return calls


def main(argv: list[str] | None = None) -> int:
    from autotagger.config import Settings
    from bench.common import peak_rss_mib
    from bench.sample_photos import read_photos

    parser = argparse.ArgumentParser(prog="python -m bench.labeler_only")
    parser.add_argument("photos", type=Path)
    parser.add_argument("--workers", type=int, default=Settings().workers)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--analyses", default="", help=f"comma-separated of {', '.join(ANALYSES)} "
                        "(default: those the pipeline's settings enable)")
    args = parser.parse_args(argv)
    names = tuple(n for n in args.analyses.split(",") if n) or enabled_analyses()
    unknown = set(names) - set(ANALYSES)
    if unknown:
        parser.error(f"unknown analyses: {', '.join(sorted(unknown))}")

    photos = read_photos(args.photos)
    calls = analysers(names, args.workers)

    def jobs(data: list[bytes]) -> list[tuple[Callable[[bytes], Any], bytes]]:
        # Photo by photo, each photo's analyses next to each other, as the pipeline's executions ask for them.
        return [(call, image) for image in data for call in calls.values()]

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(lambda job: job[0](job[1]), jobs([p.data for p in photos[: args.warmup]])))
        start, cpu_start = time.perf_counter(), _cpu()
        list(pool.map(lambda job: job[0](job[1]), jobs([p.data for p in photos])))
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu_start
    print(
        json.dumps(
            {
                "images": len(photos),
                "seconds": seconds,
                "images_per_second": len(photos) / seconds,
                "cpu_seconds_per_image": cpu / len(photos),
                "workers": args.workers,
                "analyses": list(calls),
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
