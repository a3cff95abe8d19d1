"""The labeler alone, in its own process: the baseline of the end-to-end benchmark.

Runs the same labeler the pipeline runs (`get_labeler("local", concurrent_callers=workers)`,
DetectLabels with the pipeline's MaxLabels/MinConfidence) on the same photos with as many concurrent
callers as the pipeline has workflow workers, and prints {"images", "seconds", "images_per_second",
"cpu_seconds_per_image", "peak_rss_mib"} as JSON.

    python -m bench.labeler_only PHOTO_DIR [--workers N] [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from autotagger.config import Settings
    from autotagger.labeler import get_labeler
    from bench.common import peak_rss_mib
    from bench.sample_photos import read_photos

    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m bench.labeler_only")
    parser.add_argument("photos", type=Path)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    photos = read_photos(args.photos)
    labeler = get_labeler("local", concurrent_callers=args.workers)  # as the pipeline builds it

    def label(data: bytes) -> dict:
        return labeler.detect_labels(data, max_labels=defaults.max_labels, min_confidence=defaults.min_confidence)

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(label, [p.data for p in photos[: args.warmup]]))
        start, cpu_start = time.perf_counter(), time.process_time()
        answers = list(pool.map(label, [p.data for p in photos]))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        json.dumps(
            {
                "images": len(answers),
                "seconds": seconds,
                "images_per_second": len(answers) / seconds,
                "cpu_seconds_per_image": cpu / len(answers),
                "workers": args.workers,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
