"""A burst above Rekognition's quota, locally: `autotagger serve --fault labeler.quota=Q` (at most Q
DetectLabels calls a second, the rest answered with Rekognition's ThrottlingException) takes N
uploads at R per second through `PUT /v1/{bucket}/{key}` (issue 12: 1,000 at 50/s against a quota of
5, ten times the quota). Reports the drain time (last upload answered -> last image indexed), the
dead letters (the ASL's throttling Retry must absorb the burst: 0), the throttled DetectLabels
attempts, and the Step Functions state transitions per image counted from the execution histories
(Standard workflows bill one per state entered and one per retry).

Run alone: `python -m bench.bench_burst [--uploads 1000] [--rate 50] [--quota 5] [--workers N]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import log, percentile
from bench.sample_photos import sample_photos
from bench.server_process import Client, ServerProcess

UPLOADS = 1000
RATE_PER_SECOND = 50.0
QUOTA_PER_SECOND = 5.0
POLL_SECONDS = 0.2
"""How often the bench asks whether the burst is drained: the drain time is exact to this much."""
UPLOADERS = 16
THROTTLED = "Rekognition.ThrottlingException"


# -- reading execution histories ------------------------------------------------------------------

def transitions(history: list[dict[str, Any]]) -> int:
    """Billable state transitions of one execution: one per state entered, plus one per retry
    ("each retry will be charged as an additional state transition",
    https://aws.amazon.com/step-functions/pricing/). A retry is a Task scheduled again without
    entering its state again."""
    entered = sum(1 for e in history if e["type"].endswith("StateEntered"))
    tasks_entered = sum(1 for e in history if e["type"] == "TaskStateEntered")
    scheduled = sum(1 for e in history if e["type"] == "TaskScheduled")
    return entered + scheduled - tasks_entered


def throttled_attempts(history: list[dict[str, Any]]) -> int:
    return sum(1 for e in history if e["type"] == "TaskFailed"
               and (e.get("taskFailedEventDetails") or {}).get("error") == THROTTLED)


def histories(data_dir: Path) -> list[dict[str, Any]]:
    """Every execution with its history, read from a (stopped) server's data directory."""
    from autotagger.config import Settings
    from autotagger.local.stores import LocalStores

    stores = LocalStores(Settings(data_dir=data_dir))
    try:
        return [stores.executions.get(e["executionArn"]) for e in stores.executions.list(limit=10_000_000)]
    finally:
        stores.close()


def summarize(executions: list[dict[str, Any]]) -> dict[str, Any]:
    per_image = [transitions(e["history"]) for e in executions]
    throttles = [throttled_attempts(e["history"]) for e in executions]
    retried = [t for t, n in zip(per_image, throttles, strict=True) if n]
    statuses: dict[str, int] = {}
    for e in executions:
        statuses[e["status"]] = statuses.get(e["status"], 0) + 1
    return {
        "executions": statuses,
        "throttled_attempts": sum(throttles),
        "images_throttled_at_least_once": len(retried),
        "max_throttles_of_one_image": max(throttles, default=0),
        "state_transitions_per_image": {
            "mean": round(sum(per_image) / len(per_image), 2) if per_image else None,
            "p50": percentile(per_image, 50) if per_image else None,
            "max": max(per_image, default=None),
            "without_retries": min(per_image, default=None),
            "mean_of_retried_images": round(sum(retried) / len(retried), 2) if retried else None,
        },
    }


# -- the burst ------------------------------------------------------------------------------------

def _paced_uploads(client: Client, bodies: list[bytes], rate: float) -> tuple[float, float]:
    """Upload i is sent at start + i / rate; returns (start, last answer) on the perf_counter clock."""
    start = time.perf_counter()
    answered: list[float] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        client.upload(f"burst/{i:05d}.jpg", bodies[i])
        with lock:
            answered.append(time.perf_counter())

    with ThreadPoolExecutor(max_workers=UPLOADERS) as pool:
        list(pool.map(send, range(len(bodies))))
    return start, max(answered)


def _wait_drained(client: Client, uploads: int, timeout: float) -> tuple[float, dict[str, Any]]:
    """Until every upload is indexed or dead-lettered; (the moment it was seen, the summary)."""
    deadline = time.monotonic() + timeout
    while True:
        summary = client.summary()
        letters = sum((summary.get("dead_letters") or {}).values())
        if summary.get("images_indexed", 0) + letters >= uploads:
            return time.perf_counter(), summary
        if time.monotonic() > deadline:
            raise TimeoutError(f"the burst did not drain in {timeout:.0f} s: {summary}")
        time.sleep(POLL_SECONDS)


def run(uploads: int = UPLOADS, rate: float = RATE_PER_SECOND, quota: float = QUOTA_PER_SECOND,
        workers: int | None = None, timeout: float | None = None) -> dict[str, Any]:
    import os

    bodies = [photo.data for photo in sample_photos(uploads)]
    timeout = timeout if timeout is not None else 600 + 3 * uploads / quota
    args = ["--fault", f"labeler.quota={quota:g}"] + (["--workers", str(workers)] if workers else [])
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        data_dir = Path(tmp) / "data"
        load_before = os.getloadavg()
        with ServerProcess(data_dir, args) as server:
            client = Client(server.url)
            try:
                log(f"burst: {uploads} uploads at {rate:g}/s against a DetectLabels quota of {quota:g}/s")
                start, last_upload = _paced_uploads(client, bodies, rate)
                drained, summary = _wait_drained(client, uploads, timeout)
            finally:
                client.close()
        executions = histories(data_dir)
    letters = summary.get("dead_letters") or {}
    return {
        "uploads": uploads, "rate_per_second": rate, "quota_per_second": quota,
        "workers": workers or "default (CPU cores)", "labeler": "local (onnx)",
        "upload_seconds": round(last_upload - start, 2),
        "achieved_upload_rate": round(uploads / (last_upload - start), 2) if last_upload > start else None,
        "drain_seconds": round(drained - last_upload, 2),
        "drain_seconds_resolution": POLL_SECONDS,
        "first_upload_to_last_indexed_seconds": round(drained - start, 2),
        "best_possible_seconds_at_quota": round(uploads / quota, 2),
        "images_indexed": summary.get("images_indexed"),
        "dead_letters": letters, "dead_letters_total": sum(letters.values()),
        "load_average_before": [round(x, 2) for x in load_before],
        **summarize(executions),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_burst", description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=UPLOADS)
    parser.add_argument("--rate", type=float, default=RATE_PER_SECOND, help="uploads per second")
    parser.add_argument("--quota", type=float, default=QUOTA_PER_SECOND, help="DetectLabels calls per second")
    parser.add_argument("--workers", type=int, default=None, help="the server's --workers (default: its own)")
    args = parser.parse_args(argv)
    result = run(args.uploads, args.rate, args.quota, args.workers)
    print(json.dumps(result, indent=2))
    return 0 if result["dead_letters_total"] == 0 and result["images_indexed"] == args.uploads else 1


if __name__ == "__main__":
    sys.exit(main())
