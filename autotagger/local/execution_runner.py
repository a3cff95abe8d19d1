"""Runs workflow executions on a thread pool, one outbox row each, until every one has ended.

An execution ends SUCCEEDED, or FAILED after the workflow sent its own dead letter; if it ends any
other way (an engine fault, a timeout) the runner writes the dead letter the workflow would have.
Only then is its outbox row removed, so a crash before that runs it again on the next start.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from autotagger.local.outbox import Outbox
from autotagger.ports import DeadLetters

log = logging.getLogger(__name__)


def sent_dead_letter(execution: Any) -> bool:
    """True when the workflow itself stored the dead letter (its SQS SendMessage task succeeded)."""
    return any(event.get("type") == "TaskSucceeded"
               and (event.get("taskSucceededEventDetails") or {}).get("resourceType") == "sqs"
               for event in execution.history)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ExecutionRunner:
    """Schedules executions of `state_machine` with the tasks of `registry`; `close()` lets the
    running ones finish and drops the queued ones (their outbox rows keep them)."""

    def __init__(self, state_machine: Any, registry: Any, *, outbox: Outbox, executions: Any,
                 dead_letters: DeadLetters, execution_arn: Callable[[str], str], max_workers: int):
        self._state_machine = state_machine
        self._registry = registry
        self._outbox = outbox
        self._executions = executions
        self._dead_letters = dead_letters
        self._execution_arn = execution_arn
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="workflow")
        self._in_flight = 0
        self.completed = 0  # executions finished since start (progress bars read it)
        self._idle = threading.Condition()

    def submit(self, event: dict[str, Any], name: str) -> None:
        """Persists the pending execution `name`, then schedules it; a name already pending is not
        scheduled again."""
        if self._outbox.add(name, event):
            self.schedule(name, name, event)

    def start(self, event: dict[str, Any], name: str) -> bool:
        """Like `submit`, but a name that already ran is not run again either; False then."""
        if self._executions.get(self._execution_arn(name)) is not None:
            return False
        self.submit(event, name)
        return True

    def schedule(self, key: str, execution_name: str, event: dict[str, Any]) -> None:
        """Runs outbox row `key` as execution `execution_name` (they differ for re-runs)."""
        with self._idle:
            self._in_flight += 1
        try:
            self._pool.submit(self._run, key, execution_name, event)
        except BaseException:
            self._finished()
            raise

    def wait_idle(self, timeout: float) -> bool:
        """Blocks until no execution is scheduled or running; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, key: str, execution_name: str, event: dict[str, Any]) -> None:
        try:
            try:
                execution = self._state_machine.run(event, self._registry, execution_name=execution_name,
                                                    listener=self._executions)
                if execution.status != "SUCCEEDED" and not sent_dead_letter(execution):
                    # Ended outside the workflow's own dead-letter path (an engine or timeout failure).
                    self._dead_letter(event, execution_name, execution.error or "States.Runtime",
                                      execution.cause or f"the execution ended {execution.status}")
            except Exception as exc:
                log.exception("execution %s could not run", execution_name)
                self._dead_letter(event, execution_name, "Autotagger.EngineFault", f"{type(exc).__name__}: {exc}")
            self._outbox.remove(key)
        except Exception:
            log.exception("execution %s: could not record its end; it will run again on restart", execution_name)
        finally:
            self._finished()

    def _dead_letter(self, event: dict[str, Any], execution_name: str, error: str, cause: str) -> None:
        """The workflow never got to its own dead-letter state: write the dead letter it would have."""
        self._dead_letters.send(json.dumps({
            "event": event, "error": error, "cause": cause,
            "execution_id": self._execution_arn(execution_name), "failed_at": _now()}))

    def _finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self.completed += 1
            if self._in_flight == 0:
                self._idle.notify_all()
