"""One onnxruntime session per model file per process.

Loading a model costs tens of milliseconds and tens of MB; sessions are thread-safe for `run`,
so every labeler in the process (CLI, server threads, workflow executions) shares them.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path

_lock = threading.Lock()


def intra_op_threads(concurrent_callers: int = 1) -> int:
    """Intra-op threads per session for `concurrent_callers` labeler calls at once (0: onnxruntime's
    choice, every core). One caller gets every core; several share them, since each session's pool
    spanning every core oversubscribes the CPU (measured: 1.18x images/s with 2 callers on 2 cores).
    AUTOTAGGER_ONNX_THREADS overrides (0 for onnxruntime's choice)."""
    value = os.environ.get("AUTOTAGGER_ONNX_THREADS")
    if value and value.isdigit():
        return int(value)
    if concurrent_callers <= 1:
        return 0
    return max(1, (os.cpu_count() or 1) // concurrent_callers)


@cache
def _session(path: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads would otherwise spin for a while after each run, stealing the CPU from
    # the other requests the server runs in parallel (measured: 2-4x slower under load).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def session(path: str | Path, threads: int | None = None):
    """The shared session of `path` with `threads` intra-op threads (None: intra_op_threads())."""
    with _lock:
        return _session(str(path), intra_op_threads() if threads is None else threads)
