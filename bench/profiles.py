"""Where the time goes: py-spy on the running `autotagger serve` while it tags N photos (all
threads, idle excluded), and pyinstrument on the indexing path in process (the indexer handler
with Kinesis-shaped batches of 100 into SQLite, and the OpenSearch adapter's apply).

Samples are grouped by the innermost project (or library) frame they are in, so the share of each
part of the pipeline is read directly; reports go to bench/profiles/.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, log

OUT_DIR = Path(REPO_ROOT) / "bench" / "profiles"

# (category, substring of the frame's file path or function) — innermost match wins.
CATEGORIES = [
    ("onnxruntime inference", "onnxruntime"),
    ("image decode + resize (labeler/images.py, PIL)", "labeler/images.py"),
    ("image decode + resize (labeler/images.py, PIL)", "PIL/"),
    ("labeler scoring", "labeler/scoring.py"),
    ("classifier/detector pre/post", "labeler/classifier.py"),
    ("classifier/detector pre/post", "labeler/detector.py"),
    ("numpy", "numpy/"),
    ("SQLite index writes", "index/sqlite.py"),
    ("OpenSearch adapter", "index/opensearch.py"),
    ("indexer batch (decode, documents)", "autotagger/stream_indexer/"),
    ("indexer batch (decode, documents)", "autotagger/domain/"),
    ("Powertools (handler wrappers)", "aws_lambda_powertools"),
    ("durable stream (SQLite)", "local/stream.py"),
    ("bucket (files + SQLite)", "local/bucket.py"),
    ("workflow engine", "autotagger/workflow/"),
    ("task adapters", "local/task_adapters.py"),
    ("runtime (outbox, router)", "local/runtime.py"),
    ("runtime (outbox, router)", "local/event_router.py"),
    ("runtime (outbox, router)", "local/event_pattern.py"),
    ("runtime (outbox, router)", "local/s3_events.py"),
    ("HTTP (uvicorn, FastAPI, pydantic)", "uvicorn"),
    ("HTTP (uvicorn, FastAPI, pydantic)", "starlette"),
    ("HTTP (uvicorn, FastAPI, pydantic)", "fastapi"),
    ("HTTP (uvicorn, FastAPI, pydantic)", "pydantic"),
    ("HTTP (uvicorn, FastAPI, pydantic)", "autotagger/server/"),
    ("JSON", "json/"),
    ("deepcopy", "copy.py"),
    ("HTTP client (opensearch-py, urllib3, socket)", "opensearchpy"),
    ("HTTP client (opensearch-py, urllib3, socket)", "urllib3"),
    ("HTTP client (opensearch-py, urllib3, socket)", "socket"),
    ("sqlite3 (other)", "sqlite_util.py"),
]


WAIT_LEAVES = (
    "Condition.wait ",
    "EpollSelector.select ",
    "Event.wait ",
    "sleep ",
    "_wait_for_tstate_lock ",
    "Thread.join ",
    "Queue.get ",
    "select (selectors.py",
)


def is_waiting(stack: list[str]) -> bool:
    """A sample parked in a wait with a timeout (py-spy may count those as active)."""
    return bool(stack) and stack[-1].startswith(WAIT_LEAVES)


def categorize(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for category, needle in CATEGORIES:
            if needle in frame:
                return category
    return "other"


DURABLE_WRITES = {
    "bucket writes (file + fsync + metadata)": "local/bucket.py",
    "stream checkpoint": "set_checkpoint",
    "stream put": "put_records",
    "outbox + execution store (runtime)": "local/runtime.py",
}


def durable_write_shares(text: str) -> dict[str, float]:
    """Share of (non-waiting) samples inside a durable SQLite/file write, by who asked for it."""
    found: Counter = Counter()
    total = 0
    for line in text.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        frames = [f for f in stack_text.split(";") if not f.startswith(("process ", "thread "))]
        if is_waiting(frames):
            continue
        count = int(count_text)
        total += count
        if not any("sqlite_util.py" in f or "local/bucket.py" in f for f in frames):
            continue
        for name, needle in DURABLE_WRITES.items():
            if any(needle in f for f in frames):
                found[name] += count
                break
        else:
            found["other durable writes"] += count
    return {name: round(count / total, 4) for name, count in found.most_common()} if total else {}


def parse_collapsed(text: str) -> tuple[Counter, Counter, int]:
    """py-spy raw (collapsed) output -> (samples per category, self samples per frame, total)."""
    categories: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        stack_text, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        stack = stack_text.split(";")
        frames = [f for f in stack if not f.startswith(("process ", "thread "))]
        if is_waiting(frames):
            categories["(waiting, excluded)"] += count
            continue
        total += count
        categories[categorize(frames)] += count
        if frames:
            leaves[frames[-1]] += count
    return categories, leaves, total


def _shares(counter: Counter, total: int, top: int = 12) -> list[dict[str, Any]]:
    return (
        [{"name": name, "share": round(count / total, 3)} for name, count in counter.most_common(top)] if total else []
    )


THREAD_ROLES = [  # (role, prefix of the Python thread name), first match wins
    ("workflow tasks (DetectLabels: the labeler; PutRecord)", "workflow-task"),
    ("workflow engine (executions, history, outbox)", "workflow_"),
    ("HTTP event loop (uvicorn, FastAPI)", "MainThread"),
    ("HTTP thread pool (uploads into the bucket, API queries)", "AnyIO worker thread"),
    ("stream consumer + indexer handler", "indexer-"),
]


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """User + system CPU seconds of each thread (by native id) of process `pid`, from /proc."""
    import os

    found: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        found[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def thread_roles(py_spy: str, pid: int) -> dict[str, str]:
    """Native thread id -> role, from the Python thread names `py-spy dump` shows."""
    import re

    dump = subprocess.run([py_spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60).stdout
    roles = {}
    for match in re.finditer(r'Thread (\d+) \([^)]*\): "([^"]+)"', dump):
        roles[match.group(1)] = next(
            (role for role, prefix in THREAD_ROLES if match.group(2).startswith(prefix)), "other Python threads"
        )
    return roles


def cpu_by_role(
    before: dict[str, float], after: dict[str, float], roles: dict[str, str], images: int
) -> dict[str, float]:
    """CPU milliseconds per image spent by each role's threads between two `thread_cpu_seconds`."""
    spent: Counter = Counter()
    for tid, seconds in after.items():
        spent[roles.get(tid, "native threads (no Python frames)")] += seconds - before.get(tid, 0.0)
    return {role: round(seconds * 1000 / images, 2) for role, seconds in spent.most_common() if seconds > 0}


def profile_pipeline(images: int = 24) -> dict[str, Any]:
    from bench.bench_pipeline import POLL_SECONDS
    from bench.sample_photos import sample_photos
    from bench.server_process import Client, ServerProcess

    photos = sample_photos(images)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw = OUT_DIR / "pipeline.pyspy.txt"
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp, ServerProcess(Path(tmp) / "data") as server:
        client = Client(server.url)
        try:
            client.upload("warmup/first.jpg", photos[0].data)
            client.wait_indexed(1, timeout=120)
            spy = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(server.pid),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # attached
            cpu_before = thread_cpu_seconds(server.pid)
            for photo in photos:
                client.upload(f"profile/{photo.name}", photo.data)
            client.wait_indexed(1 + len(photos), timeout=600, poll=POLL_SECONDS)  # the bench's own polling
            cpu_after = thread_cpu_seconds(server.pid)
            spy.send_signal(signal.SIGINT)
            _, err = spy.communicate(timeout=60)
            by_role = cpu_by_role(cpu_before, cpu_after, thread_roles(py_spy, server.pid), len(photos))
        finally:
            client.close()
    if not raw.is_file():
        return {"error": f"py-spy wrote no profile: {err[-500:]}"}
    categories, leaves, total = parse_collapsed(raw.read_text(encoding="utf-8"))
    waiting = categories.pop("(waiting, excluded)", 0)
    return {
        "tool": "py-spy (all threads, idle and timed waits excluded, 200 Hz)",
        "images": images,
        "samples": total,
        "waiting_samples_excluded": waiting,
        "by_part": _shares(categories, total, 20),
        "top_self_frames": _shares(leaves, total, 12),
        "durable_writes": durable_write_shares(raw.read_text(encoding="utf-8")),
        "cpu_ms_per_image_by_thread": by_role,
        "raw": str(raw.relative_to(REPO_ROOT)),
    }


def _kinesis_event(records: list[dict[str, Any]], start: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "data": base64.b64encode(json.dumps(record).encode()).decode(),
                    "partitionKey": "pk",
                    "sequenceNumber": str(start + i),
                    "kinesisSchemaVersion": "1.0",
                    "approximateArrivalTimestamp": 1764000000.0,
                },
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{start + i}",
                "eventName": "aws:kinesis:record",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/image-tagging-records",
                "awsRegion": "us-east-1",
                "eventVersion": "1.0",
            }
            for i, record in enumerate(records)
        ]
    }


def _pyinstrument_summary(profiler: Any, top: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Self time per function and per part (same categories as the py-spy profile). pyinstrument's
    "[self]" pseudo-frames are folded into their parent."""
    root = profiler.last_session.root_frame()
    self_times: Counter = Counter()
    parts: Counter = Counter()

    def walk(frame: Any, stack: list[str]) -> None:
        name = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        real = [child for child in frame.children if not str(child.function).startswith("[")]
        own = frame.time - sum(child.time for child in real)
        here = stack + [name]
        self_times[name] += own
        parts[categorize(here)] += own
        for child in real:
            walk(child, here)

    walk(root, [])
    total = root.time or 1.0
    share = lambda counter: [{"name": n, "share": round(t / total, 3)} for n, t in counter.most_common(top)]  # noqa: E731
    return {"by_part": share(parts), "top_self": share(self_times)}


def profile_indexing(batches: int = 20) -> dict[str, Any]:
    import os

    from pyinstrument import Profiler

    from autotagger.index import open_index
    from bench.osmem import opensearch_server
    from bench.synthetic_docs import DocumentFactory, synthetic_actions

    for name, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)
    from autotagger.local.lambda_context import LambdaContext
    from autotagger.stream_indexer import make_handler

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    records = DocumentFactory(seed=3).records(batches * 100)
    events = [_kinesis_event(records[i : i + 100], i) for i in range(0, len(records), 100)]
    result: dict[str, Any] = {"tool": "pyinstrument (1 ms interval)"}
    with tempfile.TemporaryDirectory(prefix="bench-profile-index-") as tmp:
        index = open_index(Path(tmp) / "index.db")
        handler = make_handler(lambda: index)
        try:
            profiler = Profiler(interval=0.001)
            profiler.start()
            for event in events:
                answer = handler(event, LambdaContext("image-indexer", region="us-east-1", account="000000000000"))
                if answer.get("batchItemFailures"):
                    raise RuntimeError(f"indexer reported failures: {answer['batchItemFailures'][:3]}")
            profiler.stop()
        finally:
            index.close()
    (OUT_DIR / "indexer_handler_sqlite.txt").write_text(profiler.output_text(unicode=False, color=False), "utf-8")
    result["handler_sqlite"] = {
        "records": len(records),
        "batch_size": 100,
        **_pyinstrument_summary(profiler),
        "report": "bench/profiles/indexer_handler_sqlite.txt",
    }
    actions = synthetic_actions(1000, seed=5)
    with opensearch_server() as url:
        index = open_index(url, index_name="image_insights_profile")
        index.ensure_ready()
        profiler = Profiler(interval=0.001)
        profiler.start()
        for i in range(0, len(actions), 100):
            index.apply(actions[i : i + 100])
        profiler.stop()
    (OUT_DIR / "opensearch_adapter.txt").write_text(profiler.output_text(unicode=False, color=False), "utf-8")
    result["opensearch_adapter"] = {
        "documents": len(actions),
        "batch_size": 100,
        **_pyinstrument_summary(profiler),
        "report": "bench/profiles/opensearch_adapter.txt",
    }
    return result


def run(quick: bool = False) -> dict[str, Any]:
    log("profiles: pipeline under py-spy")
    pipeline = profile_pipeline(12 if quick else 24)
    log("profiles: indexing path under pyinstrument")
    return {"pipeline": pipeline, "indexing": profile_indexing(10 if quick else 20)}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
