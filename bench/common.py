"""Shared helpers of the benchmarks: the machine, medians and percentiles, ports, process memory.

Every benchmark reports ratios measured side by side in the same run, the median of several
repetitions, and the machine it ran on (`machine()`), never an absolute time alone.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cores() -> int:
    """CPU cores this process may run on (affinity), which is what a benchmark can use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cores": cores(),
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "memory_gib": _memory_gib(),
    }
    for name in ("OPENBLAS_CORETYPE", "AUTOTAGGER_ONNX_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name):
            info[name] = os.environ[name]
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: Iterable[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    data = sorted(values)
    if not data:
        raise ValueError("percentile of no values")
    if len(data) == 1:
        return float(data[0])
    position = (len(data) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return float(data[low] + (data[high] - data[low]) * (position - low))


def spread(values: list[float]) -> dict[str, Any]:
    """Median, min, max and the repetitions themselves, rounded for the report."""
    return {"median": round(median(values), 6), "min": round(min(values), 6), "max": round(max(values), 6),
            "runs": [round(v, 6) for v in values]}


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def compare(candidate: list[float], baseline: list[float], target: float | None = None) -> dict[str, Any]:
    """A ratio candidate / baseline (higher is better) over repetitions that ran side by side
    (`candidate[i]` with `baseline[i]`): the ratio of the medians, the per-repetition ratios
    (min = the worst repetition, median, max) and, given a target, whether the conservative
    figure meets it: the ratio of medians AND the worst repetition must both reach it."""
    # strict=False: one side may have fewer repetitions (a failed run).
    pairs = [(c, b) for c, b in zip(candidate, baseline, strict=False) if c is not None and b]
    per_repetition = spread([c / b for c, b in pairs]) if pairs else None
    result: dict[str, Any] = {"ratio_of_medians": ratio(median(c for c, _ in pairs), median(b for _, b in pairs))
                              if pairs else None, "per_repetition": per_repetition}
    if target is not None:
        result["target"] = target
        result["conservative"] = (min(result["ratio_of_medians"], per_repetition["min"])
                                  if pairs and per_repetition is not None else None)
        result["meets_target"] = bool(pairs) and result["conservative"] >= target
    return result


def peak_rss_mib(pid: int | None = None) -> float | None:
    """VmHWM (peak resident set) of a process from /proc, in MiB; None when unavailable."""
    path = f"/proc/{pid or 'self'}/status"
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU time of a process (all its threads) and of the children it waited for
    (Tesseract runs one process per DetectText call), from /proc, in seconds."""
    try:
        with open(f"/proc/{pid or 'self'}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # proc(5): utime, stime, cutime, cstime are fields 14-17 (here 11-14: the split starts at field 3).
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...; elapsed()` -> seconds since entering."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
