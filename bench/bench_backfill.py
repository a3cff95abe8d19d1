"""The local backfill (statemachine/backfill.asl.json) over synthetic objects, with an instant labeler.

Objects are written straight into a fresh local bucket (no upload events), then `autotagger.reprocess.
backfill_local` runs the Distributed Map: a listing, batches of ten as child executions, each object
a child execution of the tagging workflow (its history, record and index write included). The
labeler answers at once, so the time is the engine's and the local stores': reported as tagging
executions per second and engine overhead per object (wall time / objects), with the map run's
counts and the machine's load. Run: `python -m bench.bench_backfill [--objects N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from bench.common import log, machine

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


class InstantLabeler:
    """DetectLabels-shaped answers at once (one label), so the figures are the engine's."""

    model_version = "instant-1"

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        return {"Labels": [{"Name": "Cat", "Confidence": 97.5, "Instances": [], "Parents": [], "Aliases": [],
                            "Categories": []}], "LabelModelVersion": self.model_version}


def run(objects: int = 10_000, workers: int = 2) -> dict[str, Any]:
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline
    from autotagger.reprocess import backfill_local

    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as data_dir:
        settings = Settings(data_dir=data_dir, workers=workers)
        with Pipeline(settings, labeler=InstantLabeler()) as pipeline:
            log(f"writing {objects} objects")
            for i in range(objects):
                pipeline.stores.bucket.put(f"photos/{i:07d}.png", PNG + i.to_bytes(4, "big"))
            load_before = os.getloadavg()
            cpu_before = time.process_time()
            started = time.perf_counter()
            summary = backfill_local(pipeline, prefix="photos/", run="bench")
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            indexed_at = time.perf_counter()
            idle = pipeline.wait_idle(timeout=600)
            index_drain = time.perf_counter() - indexed_at
            executions = pipeline.stores.execution_counts()
    tagged = summary.succeeded
    return {
        "objects": objects, "workers": workers, "status": summary.status,
        "items": {"succeeded": summary.succeeded, "failed": summary.failed},
        "map_run_execution_counts": (summary.map_run or {}).get("executionCounts"),
        "seconds": round(seconds, 2),
        "tagging_executions_per_second": round(tagged / seconds, 1) if seconds else None,
        "engine_ms_per_object": round(1000 * seconds / objects, 3),
        "cpu_ms_per_object": round(1000 * cpu / objects, 3),
        "index_drain_seconds_after": round(index_drain, 2), "index_drained": idle,
        "executions_recorded": executions,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_backfill")
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.objects, args.workers), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
