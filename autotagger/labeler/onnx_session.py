"""One onnxruntime session per model file per process.

Loading a model costs tens of milliseconds and tens of MB; sessions are thread-safe for `run`,
so every labeler in the process (CLI, server threads, workflow executions) shares them.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

_lock = threading.Lock()


def _threads() -> int:
    value = os.environ.get("AUTOTAGGER_ONNX_THREADS")
    return int(value) if value and value.isdigit() else 0  # 0: onnxruntime's choice (all cores)


@lru_cache(maxsize=None)
def _session(path: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads would otherwise spin for a while after each run, stealing the CPU from
    # the other requests the server runs in parallel (measured: 2-4x slower under load).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def session(path: str):
    with _lock:
        return _session(str(path), _threads())
