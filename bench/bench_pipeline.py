"""End to end, locally: N sample photos uploaded through the HTTP API of a real `autotagger serve`
(subprocess, free loopback port, fresh data dir) until all are indexed, versus the analysers the
workflow runs (DetectLabels, and DetectText and DetectModerationLabels unless switched off by
AUTOTAGGER_DETECT_TEXT / AUTOTAGGER_DETECT_MODERATION) alone on the same photos in the same process
configuration (own process, as many concurrent callers as the pipeline has workflow workers:
bench.labeler_only). Both are measured in every repetition, alternating which goes first; images
per second, the ratio pipeline / analysers (target >= 0.9, issues 2 and 14), CPU seconds per image
of each process and the children it waited for (less sensitive to other load on the machine than
wall-clock rates), upload-to-searchable latency p50/p95 at a low rate with the analyses the
settings enable and with the optional branches switched off (labels only), and each process's peak
memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from autotagger import contracts
from bench.common import REPO_ROOT, compare, cpu_seconds, log, median, peak_rss_mib, percentile, ratio, spread
from bench.sample_photos import Photo, sample_photos, write_photos
from bench.server_process import Client, ServerProcess

TARGET_RATIO = 0.9
UPLOADERS = 4
WARMUP = 2
LATENCY_INTERVAL = 0.5  # seconds between the low-rate latency uploads
POLL_SECONDS = 0.25
"""How often the bench asks the server whether all images are indexed. The run ends when the last
document was indexed (its `indexed_at`), not when a poll notices, so the interval only sets how much
server CPU the polls take from the pipeline (each is an HTTP request through the server's thread pool)."""


def labeler_only(photo_dir: Path, workers: int, onnx_threads: int | None = None) -> dict[str, Any]:
    """The analysers alone (bench.labeler_only), in a process with this process's environment, so with
    the analyses the pipeline server (same environment) runs."""
    env = dict(os.environ)
    if onnx_threads is not None:  # 0: onnxruntime's own choice (every core per session)
        env["AUTOTAGGER_ONNX_THREADS"] = str(onnx_threads)
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.labeler_only",
            str(photo_dir),
            "--workers",
            str(workers),
            "--warmup",
            str(WARMUP),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
        env=env,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"labeler-only run failed:\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _upload_all(client: Client, photos: list[Photo], prefix: str) -> None:
    with ThreadPoolExecutor(max_workers=UPLOADERS) as pool:
        list(pool.map(lambda p: client.upload(f"{prefix}{p.name}", p.data), photos))


LABELS_ONLY_ENV = dict.fromkeys(contracts.ANALYSIS_ENV.values(), "false")
"""The optional branches switched off, as the local Settings and CDK read them."""


def pipeline_run(
    photos: list[Photo], workers: int, latency_samples: int, latency_interval: float, workdir: Path, tag: str
) -> dict[str, Any]:
    """One fresh server: warm-up, N uploads until all are indexed, then (optionally) latency."""
    with ServerProcess(workdir / f"data-{tag}", ["--workers", str(workers)]) as server:
        client = Client(server.url)
        try:
            _upload_all(client, photos[:WARMUP], "warmup/")
            client.wait_indexed(WARMUP, timeout=120)
            start, cpu_start = time.time(), cpu_seconds(server.pid)
            _upload_all(client, photos, "batch/")
            uploaded = time.time()
            client.wait_indexed(WARMUP + len(photos), timeout=600, poll=POLL_SECONDS)
            cpu_end = cpu_seconds(server.pid)
            done = client.last_indexed_at(WARMUP + len(photos))
            result: dict[str, Any] = {
                "images": len(photos),
                "seconds": done - start,
                "images_per_second": len(photos) / (done - start),
                "upload_seconds": uploaded - start,
                "cpu_seconds_per_image": (cpu_end - cpu_start) / len(photos)
                if cpu_start is not None and cpu_end is not None
                else None,
            }
            if latency_samples:
                result["latency_ms"] = low_rate_latency(client, photos, latency_samples, latency_interval)
            result["peak_rss_mib"] = peak_rss_mib(server.pid)
            summary = client.summary()
            result["dead_letters"] = summary.get("dead_letters")
        finally:
            client.close()
    return result


def latency_run(photos: list[Photo], workers: int, samples: int, interval: float, workdir: Path, tag: str,
                env: dict[str, str]) -> dict[str, list[float]]:
    """One fresh server with `env` on top of this environment: warm-up, then the low-rate latency only."""
    with ServerProcess(workdir / f"data-{tag}", ["--workers", str(workers)], env=env) as server:
        client = Client(server.url)
        try:
            _upload_all(client, photos[:WARMUP], "warmup/")
            client.wait_indexed(WARMUP, timeout=120)
            return low_rate_latency(client, photos, samples, interval)
        finally:
            client.close()


def _latency_summary(parts: dict[str, list[float]], interval: float) -> dict[str, Any]:
    latencies = parts["total"]
    return {
        "rate_per_second": 1 / interval,
        "samples": len(latencies),
        "p50": round(percentile(latencies, 50), 1),
        "p95": round(percentile(latencies, 95), 1),
        "max": round(max(latencies), 1),
        "breakdown_p50": {
            name: round(percentile(values, 50), 1) for name, values in parts.items() if values and name != "total"
        },
    }


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def low_rate_latency(client: Client, photos: list[Photo], samples: int, interval: float) -> dict[str, list[float]]:
    """One upload every `interval` seconds (an idle pipeline between them): PUT start -> the image's
    document answers GET /v1/images/{id}. Each latency is split (same clock, same machine) into
    upload -> execution start, the execution (labeling inside), execution end -> indexed_at
    (stream + indexer) and indexed_at -> seen by the client (its 5 ms polling)."""
    from autotagger.domain.documents import document_id

    parts: dict[str, list[float]] = {
        "total": [],
        "upload_to_execution_start": [],
        "execution": [],
        "stream_and_indexer": [],
        "indexed_to_seen": [],
    }
    for i in range(samples):
        photo = photos[i % len(photos)]
        key = f"latency/{i:03d}-{photo.name}"
        began, began_wall = time.perf_counter(), time.time()
        client.upload(key, photo.data)
        while not client.searchable(key):
            if time.perf_counter() - began > 60:
                raise TimeoutError(f"{key} not searchable after 60 s")
            time.sleep(0.005)
        seen = time.perf_counter()
        parts["total"].append((seen - began) * 1000)
        document = client.http.get(f"/v1/images/{document_id(client.bucket, key)}").json()
        executions = client.http.get("/v1/executions", params={"limit": 1}).json()["executions"]
        start, stop = (
            (_epoch(executions[0].get("start_date")), _epoch(executions[0].get("stop_date")))
            if executions
            else (None, None)
        )
        indexed = _epoch(document.get("indexed_at"))
        if start and stop and indexed:
            seen_wall = began_wall + (seen - began)
            parts["upload_to_execution_start"].append((start - began_wall) * 1000)
            parts["execution"].append((stop - start) * 1000)
            parts["stream_and_indexer"].append((indexed - stop) * 1000)
            parts["indexed_to_seen"].append((seen_wall - indexed) * 1000)
        time.sleep(max(0.0, interval - (time.perf_counter() - began)))
    return parts


def run(quick: bool = False, images: int | None = None, repeats: int | None = None) -> dict[str, Any]:
    from autotagger.config import Settings
    from autotagger.labeler.onnx_session import intra_op_threads
    from bench.labeler_only import enabled_analyses

    images = images or (16 if quick else 40)
    repeats = repeats or (2 if quick else 5)
    latency_samples = 8 if quick else 20
    workers = Settings().workers
    analyses = enabled_analyses()
    photos = sample_photos(images)
    pipeline_runs, labeler_runs, all_core_runs = [], [], []
    labels_only_latency: dict[str, list[float]] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        workdir = Path(tmp)
        photo_dir = workdir / "photos"
        write_photos(photos, photo_dir)
        for rep in range(repeats):
            last = rep == repeats - 1
            order = ("labeler", "pipeline") if rep % 2 == 0 else ("pipeline", "labeler")
            for which in order:
                log(f"end to end: {which}, {images} photos ({', '.join(analyses)}), repetition {rep + 1}/{repeats}")
                if which == "labeler":
                    labeler_runs.append(labeler_only(photo_dir, workers))
                else:
                    pipeline_runs.append(
                        pipeline_run(
                            photos, workers, latency_samples if last else 0, LATENCY_INTERVAL, workdir, str(rep)
                        )
                    )
            if not quick:  # the former default, side by side: every session's intra-op pool on every core
                all_core_runs.append(labeler_only(photo_dir, workers, onnx_threads=0))
        if set(analyses) != {"labels"}:
            log(f"end to end: latency with the optional branches off ({', '.join(LABELS_ONLY_ENV)}=false)")
            labels_only_latency = latency_run(photos, workers, latency_samples, LATENCY_INTERVAL, workdir,
                                              "labels-only", LABELS_ONLY_ENV)
    labeler_rate = median(r["images_per_second"] for r in labeler_runs)
    throughput = compare(
        [r["images_per_second"] for r in pipeline_runs], [r["images_per_second"] for r in labeler_runs], TARGET_RATIO
    )
    result: dict[str, Any] = {
        "images": images,
        "repeats": repeats,
        "workers": workers,
        "uploaders": UPLOADERS,
        "analyses": list(analyses),
        "run_ends": f"when the last is indexed (its `indexed_at`; `GET /v1/images` polled every {POLL_SECONDS:g} s "
        "to learn it)",
        "photos": sorted({p.name.rsplit("-", 1)[0] for p in photos}),
        "pipeline_images_per_second": spread([r["images_per_second"] for r in pipeline_runs]),
        # The baseline: the analysers the pipeline runs (`analyses`), alone (the key predates issue 14).
        "labeler_images_per_second": spread([r["images_per_second"] for r in labeler_runs]),
        "ratio_of_medians": throughput["ratio_of_medians"],
        "onnx_threads_per_session": intra_op_threads(workers),
        "cpu_seconds_per_image": {
            "pipeline_server": spread(
                [r["cpu_seconds_per_image"] for r in pipeline_runs if r["cpu_seconds_per_image"]]
            ),
            "labeler_only": spread([r["cpu_seconds_per_image"] for r in labeler_runs]),
        },
        "cpu_ratio_labeler_over_pipeline": ratio(
            median(r["cpu_seconds_per_image"] for r in labeler_runs),
            median(r["cpu_seconds_per_image"] for r in pipeline_runs if r["cpu_seconds_per_image"]),
        ),
        "ratio_per_repetition": throughput["per_repetition"],
        "target_ratio": TARGET_RATIO,
        "meets_target": throughput["meets_target"],  # by the conservative figure (see bench.common.compare)
        "latency_ms": _latency_summary(pipeline_runs[-1]["latency_ms"], LATENCY_INTERVAL),
        "peak_rss_mib": {
            "pipeline_server": spread([r["peak_rss_mib"] or 0 for r in pipeline_runs]),
            "labeler_only": spread([r["peak_rss_mib"] or 0 for r in labeler_runs]),
        },
        "upload_seconds": spread([r["upload_seconds"] for r in pipeline_runs]),
        "dead_letters": pipeline_runs[-1].get("dead_letters"),
    }
    if labels_only_latency is not None:
        result["latency_ms_labels_only"] = _latency_summary(labels_only_latency, LATENCY_INTERVAL)
    if all_core_runs:
        result["labeler_all_core_sessions"] = {
            "images_per_second": spread([r["images_per_second"] for r in all_core_runs]),
            "cpu_seconds_per_image": spread([r["cpu_seconds_per_image"] for r in all_core_runs]),
            "default_labeler_vs_this": ratio(labeler_rate, median(r["images_per_second"] for r in all_core_runs)),
        }
    return result


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
