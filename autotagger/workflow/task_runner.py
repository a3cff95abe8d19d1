"""Runs task adapters under a deadline (TimeoutSeconds / HeartbeatSeconds).

A Python call cannot be interrupted from outside, so a task with a deadline runs on a worker
thread while the execution waits at most until the deadline. When the deadline passes the
execution moves on (States.Timeout, then Retry/Catch) and the call is *abandoned*: it keeps
running on its daemon worker until it returns, its result or exception is discarded, and the
worker then serves later calls. An abandoned call may therefore still have its side effect
(e.g. a record put after the timeout) — the same at-least-once behaviour Step Functions has when
it retries a task that timed out. Workers are daemon threads, so a hung call never blocks exit.

Workers are reused (starting a thread costs ~0.1–0.5 ms, more than a whole execution should).
A task without a deadline runs inline in the calling thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class TaskDeadlineExceeded(Exception):
    """The call did not return before its deadline; it was abandoned."""


class _Job:
    __slots__ = ("fn", "arg", "done", "result", "error")

    def __init__(self, fn: Callable[[Any], Any], arg: Any):
        self.fn = fn
        self.arg = arg
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class TaskRunner:
    """Calls `fn(arg)`, inline without a timeout, on a reusable daemon worker with one."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._workers = 0

    @property
    def workers(self) -> int:
        return self._workers

    def call(self, fn: Callable[[Any], Any], arg: Any, timeout: float | None) -> Any:
        if timeout is None:
            return fn(arg)
        job = _Job(fn, arg)
        with self._lock:
            if self._idle:
                self._idle -= 1
                spawn = False
            else:
                self._workers += 1
                spawn = True
        if spawn:
            threading.Thread(target=self._work, args=(job,), name="workflow-task", daemon=True).start()
        else:
            self._jobs.put(job)
        if not job.done.wait(max(timeout, 0.0)):
            raise TaskDeadlineExceeded(f"the task did not finish within {timeout:g} s")
        if job.error is not None:
            raise job.error
        return job.result

    def _work(self, job: _Job) -> None:
        while True:
            try:
                job.result = job.fn(job.arg)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting execution, which names it
                job.error = exc
            job.done.set()
            del job  # drop references to the finished call while idle
            with self._lock:
                self._idle += 1
            job = self._jobs.get()


DEFAULT_RUNNER = TaskRunner()
